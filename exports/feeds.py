"""How a feed is declared: what it exports, and every fact the engine and the pages need.

The engine (``exports/engine.py``, the sinks, the cursor stores, ``exports/runs.py``) knows a
feed only through its declaration here and the registry (``exports/registry.py``); each app
declares its own feeds beside its data (``reports/feeds.py``, ``telemetry/feeds.py``), the
way apps register models with the admin. A declaration names the rows or snapshot source,
the webhook envelope, the settings the feed reads (``exports/config.py``), its card on the
operator pages (title, download route, the permission that guards its rows) and its cursor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db.models import Model, QuerySet

from exports.config import FeedConfig
from exports.http import request_with_retries
from exports.models import Feed
from exports.warehouse import WarehouseTable
from smplat.cursors import Cursor, format_cursor, parse_cursor, rows_after
from smplat.ndjson import json_bytes, ndjson_line
from smplat.pacing import Pacer
from smplat.textpages import text_pages


@dataclass(frozen=True)
class Batch:
    """Rows that travel together: one webhook POST, one S3 object, one cursor checkpoint.

    A feed gives either ``rows`` (public row dicts) or ``lines`` (the same rows already
    encoded as NDJSON, one a line, when PostgreSQL builds the JSON); the sinks ask for the
    form they write through ``ndjson()``, ``envelope()`` and ``row_dicts()``.
    """

    feed: str
    rows: list[dict[str, Any]] | None
    first_position: str
    last_position: str
    # Where the next run resumes once this batch is accepted (None: from the beginning).
    checkpoint: str | None
    lines: bytes | None = None
    line_count: int | None = None  # of ``lines``, when the feed knows it already

    def __len__(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        return self.lines.count(b"\n") if self.line_count is None else self.line_count

    def ndjson(self) -> bytes:
        if self.lines is not None:
            return self.lines
        return b"".join(ndjson_line(row) for row in self.rows)

    def envelope(self, name: str) -> bytes:
        """``{name: [rows]}`` as compact JSON, as ``json_bytes`` writes it."""
        if self.lines is None:
            return json_bytes({name: self.rows})
        # JSON text never holds a raw newline, so the lines split exactly between rows.
        rows = self.lines.rstrip(b"\n").replace(b"\n", b",")
        return b"{" + json_bytes(name) + b":[" + rows + b"]}"

    def row_dicts(self) -> list[dict[str, Any]]:
        if self.rows is not None:
            return self.rows
        return [json.loads(line) for line in self.lines.splitlines()]

    @property
    def key(self) -> str:
        """Idempotency key: the same rows re-sent after a crash get the same key."""
        digest = hashlib.sha256(
            f"{self.feed}|{self.first_position}|{self.last_position}".encode()
        ).hexdigest()
        return f"msg_{digest[:32]}"


@dataclass(frozen=True)
class Filters:
    """Narrowing options of one run: ``equals`` maps a feed's filter option (its
    ``filter_fields``, e.g. ``provider_id``) to the value rows must have."""

    equals: Mapping[str, str] = field(default_factory=dict)
    since: datetime | None = None


# The settings a feed usually reads (FeedConfig fields; <PREFIX>_<FIELD> in settings.py).
ROW_FEED_SETTINGS = (
    "sink",
    "file_path",
    "s3_uri",
    "webhook_url",
    "cursor_path",
    "cursor_s3_uri",
    "status_s3_uri",
    "status_url",
    "slack_webhook",
    "workflow_url",
    "schedule_minutes",
)
SNAPSHOT_SETTINGS = (
    "url",
    "bucket",
    "s3_prefix",
    "status_s3_uri",
    "status_url",
    "slack_webhook",
    "workflow_url",
    "schedule_minutes",
)
# "Run export now" may dispatch a workflow (GitHub workflow_dispatch) instead.
TRIGGER_SETTINGS = ("trigger_url", "trigger_token", "trigger_ref")


@dataclass(frozen=True)
class Card:
    """The feed's export-health card on the operator pages."""

    title: str  # as the runbooks name it: "Guardrail export health"
    order: int  # place on /admin/reports/
    # URL name of the route streaming the latest artifact ("Download latest NDJSON"), if any.
    download_route: str | None = None


@dataclass(frozen=True, kw_only=True)
class FeedDefinition:
    name: str  # one of exports.models.Feed: the name in ExportRun, locks and cursors
    settings_prefix: str
    # The FeedConfig fields the feed reads, each from <PREFIX>_<FIELD> unless
    # ``setting_overrides`` names its variable (ANALYTICS_GUARDRAIL_WEBHOOK, ...).
    settings: tuple[str, ...]
    setting_overrides: Mapping[str, str] = field(default_factory=dict)
    # The permission to read the feed's rows: with exports.view_exportrun it lets a staff
    # user download the feed's latest artifact.
    rows_permission: str
    unit: str = "rows"  # what a run counts, in summaries: rows or events
    card: Card | None = None
    # The table the feed lands in and how each form loads (``manage.py warehouse_sql``).
    warehouse: WarehouseTable | None = None

    def __post_init__(self) -> None:
        Feed(self.name)  # ValueError: ExportRun's constraint knows only Feed's names

    @property
    def label(self) -> str:
        return Feed(self.name).label

    @property
    def config(self) -> FeedConfig:
        from exports.config import config_for

        return config_for(self)

    @property
    def download_permissions(self) -> tuple[str, ...]:
        return ("exports.view_exportrun", self.rows_permission)

    def setting_names(self) -> dict[str, str]:
        return {
            name: self.setting_overrides.get(name, f"{self.settings_prefix}_{name.upper()}")
            for name in self.settings
        }

    def parse_cursor(self, text: str) -> str:
        """Validate a cursor given on the command line; returns its normal text form."""
        return text

    def missing_settings(self) -> list[str]:
        """The variables a run of the feed with its settings (``export_run``) needs and lacks:
        such a run could only fail, so the site offers none until they are set."""
        config = self.config
        if isinstance(self, SnapshotFeed):
            needed = ["url", "bucket"]
        elif isinstance(self, RowFeed) and "sink" in self.settings:
            sink = config.sink or "webhook"
            needed = [{"webhook": "webhook_url", "file": "file_path", "s3": "s3_uri"}.get(sink, "")]
            if not needed[0]:
                return [f"{config.name_of('sink')} (webhook, file or s3)"]
        else:
            return ["a schedule: this feed is exported by its command only"]
        return [config.name_of(name) for name in needed if not getattr(config, name)]


@dataclass(frozen=True, kw_only=True)
class RowFeed(FeedDefinition):
    """Rows read from this database in (timestamp, id) order."""

    envelope: str  # the webhook body is {envelope: [rows]}
    model: type[Model]
    timestamp_field: str
    columns: tuple[str, ...]  # for .values(); must include the timestamp and "id"
    serialise: Callable[[dict[str, Any]], dict[str, Any]]
    id_kind: type
    # The public row built by PostgreSQL as JSON text (the same bytes ``serialise`` and
    # ``ndjson_line`` give), and the keys of that JSON holding the row's timestamp and id.
    # With it, batches arrive as finished NDJSON: no Python object per row.
    json_sql: str | None = None
    json_position: tuple[str, str] | None = None
    # Filter options a run may narrow by (``Filters.equals``) and the model field of each.
    filter_fields: Mapping[str, str] = field(default_factory=dict)

    def parse_cursor(self, text: str) -> str:
        return str(parse_cursor(text, id_kind=self.id_kind))

    def queryset(self, filters: Filters) -> QuerySet:
        queryset = self.model.objects.all()
        for option, value in filters.equals.items():
            if option not in self.filter_fields:
                raise ValueError(f"the {self.name} feed cannot be filtered by {option}")
            if value:
                queryset = queryset.filter(**{self.filter_fields[option]: value})
        if filters.since is not None:
            queryset = queryset.filter(**{f"{self.timestamp_field}__gte": filters.since})
        return queryset

    def batches(
        self,
        *,
        start: str | None,
        batch_size: int,
        limit: int | None,
        filters: Filters,
        watermark: datetime,
        pacer: Pacer | None = None,
    ) -> Iterator[Batch]:
        """Keyset batches strictly after ``start`` and strictly before ``watermark`` (the
        commit watermark, ``smplat/watermark.py``: no row can still commit below it), giving
        way to the database's other clients with a ``pacer`` (``smplat/pacing.py``).

        Each batch is one indexed query with the row comparison of ``smplat.cursors``;
        never model instances, and never a server-side cursor in autocommit (psycopg makes
        that a WITH HOLD cursor, which materialises the whole result first).
        """
        ts = self.timestamp_field
        base = self.queryset(filters).filter(**{f"{ts}__lt": watermark}).order_by(ts, "id")
        cursor: Cursor | None = parse_cursor(start, id_kind=self.id_kind) if start else None
        if self.json_sql:
            yield from self._encoded_batches(base, cursor, batch_size, limit, pacer)
            return
        pacer = pacer or Pacer(0)
        sent = 0
        while limit is None or sent < limit:
            size = batch_size if limit is None else min(batch_size, limit - sent)
            pacer.busy()
            with pacer.timed():
                page = rows_after(base, cursor, timestamp_field=ts).values(*self.columns)[:size]
                values = list(page)
            if not values:
                return
            first, last = values[0], values[-1]
            cursor = Cursor(last[ts], str(last["id"]))
            yield Batch(
                feed=self.name,
                rows=[self.serialise(value) for value in values],
                first_position=format_cursor(first[ts], first["id"]),
                last_position=str(cursor),
                checkpoint=str(cursor),
            )
            sent += len(values)
            if len(values) < size:
                return

    def _encoded_batches(
        self,
        queryset: QuerySet,
        start: Cursor | None,
        batch_size: int,
        limit: int | None,
        pacer: Pacer | None,
    ) -> Iterator[Batch]:
        """Batches of NDJSON built by PostgreSQL (``smplat/textpages.py``); a batch's
        positions come from its first and last lines, whose JSON holds the timestamp and id."""
        for lines, rows in text_pages(
            queryset,
            line_sql=self.json_sql,
            start=start,
            timestamp_field=self.timestamp_field,
            batch_size=batch_size,
            limit=limit,
            id_kind=self.id_kind,
            pacer=pacer,
        ):
            last = self._position(lines[lines.rfind(b"\n", 0, len(lines) - 1) + 1 : -1])
            yield Batch(
                feed=self.name,
                rows=None,
                lines=lines,
                line_count=rows,
                first_position=self._position(lines[: lines.index(b"\n")]),
                last_position=last,
                checkpoint=last,
            )

    def _position(self, line: bytes) -> str:
        row = json.loads(line)
        timestamp_key, id_key = self.json_position
        return f"{row[timestamp_key]}~{row[id_key]}"


@dataclass(frozen=True, kw_only=True)
class ApiFeed(FeedDefinition):
    """Rows read page by page from the reporting API (for hosts without database access)."""

    envelope: str
    rows_key: str = "events"

    def parse_cursor(self, text: str) -> str:
        return str(parse_cursor(text, id_kind=int))

    def batches(
        self,
        *,
        start: str | None,
        batch_size: int,
        limit: int | None,
        api_url: str,
        api_key: str,
    ) -> Iterator[Batch]:
        """Walk ``nextCursor`` page by page.

        The API serves rows only below its commit watermark (``smplat/watermark.py``), so no
        cursor it hands out can be passed by a row that commits later. It gives no cursor
        after its last page; that page holds every remaining row below the watermark, ties
        included, so the next run resumes strictly after its last row's timestamp (a
        bare-timestamp cursor) without losing or repeating a row.
        """
        api_url = experiment_events_url(api_url)
        cursor = start
        sent = 0
        while limit is None or sent < limit:
            size = min(batch_size, 500) if limit is None else min(batch_size, 500, limit - sent)
            params = {"limit": str(size)}
            if cursor:
                params["cursor"] = cursor
            headers = {"Accept": "application/json"}
            if api_key:
                headers["Authorization"] = f"Bearer {api_key}"
            response = request_with_retries("GET", _with_query(api_url, params), headers=headers)
            try:
                body = response.json()
                rows = body[self.rows_key]
                next_cursor = body.get("nextCursor")
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"the reporting API answered an unexpected body: {exc}") from exc
            if not rows:
                return
            first, last = rows[0], rows[-1]
            checkpoint = next_cursor or last.get("recordedAt") or cursor
            yield Batch(
                feed=self.name,
                rows=rows,
                first_position=f"{first.get('recordedAt')}~{first.get('eventId')}~{cursor}",
                last_position=f"{last.get('recordedAt')}~{last.get('eventId')}~{checkpoint}",
                checkpoint=checkpoint,
            )
            sent += len(rows)
            if not next_cursor:
                return
            cursor = next_cursor


def experiment_events_url(url: str) -> str:
    """The experiment-events endpoint from ``url``, which may be the endpoint itself or the
    site's base URL (what ``REPORTING_API_URL`` usually holds), with or without a trailing
    slash or a path prefix the site is mounted under: anything else gets the endpoint's path
    appended. The path comes from the URL conf, the same code the API site runs."""
    from django.urls import reverse

    endpoint = reverse("api-experiment-events")
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith(endpoint):
        return urlunsplit(parts._replace(path=path))
    return urlunsplit(parts._replace(path=path + endpoint))


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


class Metrics(Protocol):
    """Figures of a telemetry snapshot, counted line by line as the window streams by."""

    def add(self, event: dict[str, Any]) -> None: ...

    def result(self) -> dict[str, Any]: ...


@dataclass(frozen=True, kw_only=True)
class SnapshotFeed(FeedDefinition):
    """A capture route's NDJSON window, landed whole in S3 with its metrics (SPEC §4)."""

    folder: str  # quick-order / guardrail-workflow, under the bucket's prefix
    count_header: str  # the route's "rows in this body" header
    metrics: Callable[[], Metrics]
    unit: str = "events"
    # Health hooks (exports/health.py), given by the app that owns the window, since the
    # engine imports no app's models: ``pending(after, cap)`` counts the window's events
    # recorded after ``after`` (all of them for None), up to ``cap + 1``, and returns
    # (count, oldest recorded_at); ``local_metrics()`` gives the figures the exported
    # metrics must match, compared key by key for ``compared_metrics`` ((key, label), ...).
    pending: Callable[[datetime | None, int], tuple[int, datetime | None]] | None = None
    local_metrics: Callable[[], dict[str, Any]] | None = None
    compared_metrics: tuple[tuple[str, str], ...] = ()
