"""One health state per feed, computed here and nowhere else: the cards, the badges, the
poll endpoint, ``monitor_exports`` and the end of every run all call ``feed_health``.

States (SPEC §8), the worst one wins (``SEVERITY``):
- ``never``: no run yet; ``running``: a run is queued or under way (shown, never recorded
  as a flip: it is transient and the run history has it);
- ``fresh`` / ``late`` / ``stale``: the last sync against the feed's schedule, plus
  ``EXPORT_FRESHNESS_GRACE_MINUTES``, then ``EXPORT_STALE_AFTER_SCHEDULES`` schedules;
- ``failing``: the last ``EXPORT_FAILING_AFTER_RUNS`` finished runs failed (a run whose
  process died counts, once a look at the feed recorded it as abandoned), the feed's
  settings do not load, or its exported metrics drift more than 5% from the local ones;
- ``stuck``: the newest run succeeded with 0 rows although rows older than its start wait
  after the stored cursor.

``health_check`` records a change of the settled state (a ``FeedFlip``) with a conditional
UPDATE and sends one Slack message per change: a warning when a feed turns ``late``, an alert
when it goes bad (``stale``, ``failing``, ``stuck``), and one when it recovers; see
``health_record``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Count, F, Min, QuerySet, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from exports.alerts import QUEUED, alert_send, flip_alert_send
from exports.feeds import FeedDefinition, RowFeed, SnapshotFeed
from exports.locks import feed_lock_held
from exports.models import ExportRun, FeedFlip, FeedState, HealthState
from exports.notifications import SlackOutcome
from smplat.cursors import InvalidCursor, parse_cursor, rows_after
from smplat.humanize import counted

logger = logging.getLogger(__name__)

S = HealthState
# Best to worst: the worst finding about a feed is its state.
SEVERITY = (S.FRESH, S.NEVER, S.RUNNING, S.LATE, S.STALE, S.STUCK, S.FAILING)
BAD_STATES = frozenset({S.STALE, S.FAILING, S.STUCK})
# The states Slack hears about: the bad ones, and late as a warning (an overdue export should not
# wait for stale to be noticed; monitor_exports still exits 0 for it).
ALERTED_STATES = BAD_STATES | {S.LATE}
FINISHED_OUTCOMES = (ExportRun.Outcome.SUCCEEDED, ExportRun.Outcome.NO_DATA, "failed")
SUCCESS_OUTCOMES = (ExportRun.Outcome.SUCCEEDED, ExportRun.Outcome.NO_DATA)
# Enough history for every rule (and the cards' sparkline of 24 runs).
HISTORY_RUNS = 24
DRIFT_THRESHOLD_PERCENT = 5.0
ABANDONED_RUNNING = (
    "Abandoned: the exporter's process is gone (killed or crashed) and the feed's lock is free."
)
ABANDONED_QUEUED = "Abandoned: no worker picked this run up; is `manage.py db_worker` running?"


# -- the quick-order drift rule -------------------------------------------------------------
@dataclass(frozen=True)
class MetricDelta:
    key: str
    label: str
    local: float | int | None
    exported: float | int | None

    @property
    def delta(self) -> float | None:
        if self.local is None or self.exported is None:
            return None
        return round(self.local - self.exported, 1)

    @property
    def drift_percent(self) -> float | None:
        """|local - exported| relative to the exported value, in percent."""
        if self.local is None or self.exported is None:
            return None
        if self.exported == 0:
            return 0.0 if self.local == 0 else 100.0
        return round(abs(self.local - self.exported) / abs(self.exported) * 100, 1)

    @property
    def drifted(self) -> bool:
        """Unrounded, so 5.04% is not flagged and 5.06% is."""
        if self.local is None or self.exported is None:
            return False
        if self.exported == 0:
            return self.local != 0
        return abs(self.local - self.exported) / abs(self.exported) * 100 > DRIFT_THRESHOLD_PERCENT

    def describe(self) -> str:
        return f"{self.key} {self.local} local vs {self.exported} exported ({self.drift_percent}%)"


def compare_metrics(
    local: dict[str, Any], exported: dict[str, Any] | None, metrics: tuple[tuple[str, str], ...]
) -> list[MetricDelta]:
    """One row per metric; a value that is not a number (absent, null, a bool) is None."""

    def number(value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        try:  # NaN, Infinity and integers past a float's range compare with nothing
            return value if math.isfinite(value) else None
        except OverflowError:
            return None

    exported = exported or {}
    return [
        MetricDelta(
            key=key, label=label, local=number(local.get(key)), exported=number(exported.get(key))
        )
        for key, label in metrics
    ]


# -- rows behind the cursor ----------------------------------------------------------------
@dataclass(frozen=True)
class Behind:
    """Rows (events) in the source after the stored cursor: exact up to the cap."""

    count: int | None = None  # None: not known (no cursor source, unreadable store)
    capped: bool = False
    oldest: datetime | None = None
    cursor: str | None = None
    source: str = ""  # where the cursor came from
    note: str = ""  # why the count is unknown or approximate

    @property
    def text(self) -> str:
        if self.count is None:
            return "unknown"
        shown = f"{self.count:,}".replace(",", "\u202f")
        return f"{shown}+" if self.capped else shown

    @property
    def json_value(self) -> int | str | None:
        """A number, or ``"100000+"`` past the cap, or null when unknown."""
        if self.count is None:
            return None
        return f"{self.count}+" if self.capped else self.count


def _stored_cursor(definition: RowFeed, runs: list[ExportRun]) -> tuple[str | None, str, str]:
    """The cursor the next scheduled run resumes from: the feed's cursor store (S3 object,
    else file), falling back to the newest successful run's ``cursor_after``."""
    from exports.cursors import CursorStoreError, build_cursor_store
    from exports.s3 import S3Failed

    note = ""
    config = definition.config
    try:
        store = None
        if config.cursor_s3_uri:
            store = build_cursor_store("s3", uri=config.cursor_s3_uri)
        elif config.cursor_path:
            store = build_cursor_store("file", path=config.cursor_path)
        cursor = store.load() if store else None
        if store is not None and store.found:  # a reset leaves None there: the beginning
            return cursor, f"cursor store ({store.name})", ""
    except (CursorStoreError, S3Failed, OSError) as exc:
        note = f"cursor store unreadable ({exc}); "
    last = next((r for r in runs if r.outcome in SUCCESS_OUTCOMES and r.cursor_after), None)
    if last:
        return last.cursor_after, f"run #{last.pk}", note
    return None, "", note


def rows_behind(definition: FeedDefinition, runs: list[ExportRun]) -> Behind:
    """Bounded: one index walk of at most ``EXPORT_ROWS_BEHIND_CAP + 1`` rows, so a feed
    millions of rows behind costs what one 100 000 rows behind does."""
    cap = settings.EXPORT_ROWS_BEHIND_CAP
    if isinstance(definition, SnapshotFeed):
        if definition.pending is None:
            return Behind()
        last = next((r for r in runs if r.outcome in SUCCESS_OUTCOMES), None)
        after = (last.started_at or last.created_at) if last else None
        count, oldest = definition.pending(after, cap)
        return Behind(
            count=min(count, cap),
            capped=count > cap,
            oldest=oldest,
            source="last snapshot" if last else "no snapshot yet",
        )
    if not isinstance(definition, RowFeed):
        return Behind()
    text, source, note = _stored_cursor(definition, runs)
    try:
        cursor = parse_cursor(text, id_kind=definition.id_kind) if text else None
    except InvalidCursor as exc:
        return Behind(cursor=text, source=source, note=f"{note}the cursor does not parse: {exc}")
    ts = definition.timestamp_field
    pending = rows_after(definition.model.objects.all(), cursor, timestamp_field=ts)
    window = pending.order_by(ts, "id").values(ts)[: cap + 1]
    figures = window.aggregate(count=Count("*"), oldest=Min(ts))
    return Behind(
        count=min(figures["count"], cap),
        capped=figures["count"] > cap,
        oldest=figures["oldest"],
        cursor=text,
        source=source or "no cursor yet: every row",
        note=note.rstrip("; "),
    )


# -- the state -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    state: str
    since: datetime | None
    reason: str


@dataclass(frozen=True)
class Health:
    feed: str
    state: str  # shown everywhere: the worst finding
    since: datetime | None
    reason: str
    settled: Finding  # the worst finding but an in-flight run: what flips record
    last_sync: datetime | None = None
    last_error: str | None = None
    behind: Behind = field(default_factory=Behind)
    drift: list[MetricDelta] = field(default_factory=list)
    local_metrics: dict[str, Any] | None = None

    @property
    def bad(self) -> bool:
        return self.state in BAD_STATES

    @property
    def drifted(self) -> list[MetricDelta]:
        return [row for row in self.drift if row.drifted]

    def as_json(self) -> dict[str, Any]:
        """The badge JSON (SPEC §8)."""
        return {
            "feed": self.feed,
            "state": self.state,
            "since": _iso(self.since),
            "rowsBehind": self.behind.json_value,
            "lastSync": _iso(self.last_sync),
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def format_moment(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


# A status payload's time is believed between these bounds (a few minutes of clock skew
# ahead): a payload written with "9999-12-31" would otherwise keep its card fresh for ever,
# and the dates at the ends of the calendar overflow the arithmetic of the schedule.
EARLIEST_SYNC = datetime(2000, 1, 1, tzinfo=UTC)
SYNC_CLOCK_SKEW = timedelta(minutes=5)


def status_synced_at(
    payload: dict[str, Any] | None, *, now: datetime | None = None
) -> datetime | None:
    """``syncedAt`` (telemetry) or ``updatedAt`` (follow-ups) of a status payload, in UTC;
    None when absent, malformed, without a zone, or outside the believable range."""
    raw = (payload or {}).get("syncedAt") or (payload or {}).get("updatedAt")
    if not isinstance(raw, str):
        return None
    try:
        parsed = parse_datetime(raw)
        if parsed is None or parsed.tzinfo is None:
            return None
        moment = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if not EARLIEST_SYNC <= moment <= (now or timezone.now()) + SYNC_CLOCK_SKEW:
        return None
    return moment


def _fresh_since(finished: list[ExportRun], last_sync: datetime, gap: timedelta) -> datetime:
    """When the current fresh spell began: the oldest success of the newest unbroken chain of
    successful syncs no further apart than ``gap`` (schedule plus grace), as far back as the
    runs at hand go; a failed run or a longer silence ends the chain."""
    since = last_sync
    for run in finished:
        if run.outcome not in SUCCESS_OUTCOMES:
            break
        if run.finished_at is None:
            continue
        if run.finished_at > since:
            continue  # the status payload's sync may be the newest
        if since - run.finished_at > gap:
            break
        since = run.finished_at
    return since


def _worst(findings: list[Finding]) -> Finding:
    return max(findings, key=lambda finding: SEVERITY.index(finding.state))


def judge(
    definition: FeedDefinition,
    *,
    runs: list[ExportRun],
    now: datetime,
    status_payload: dict[str, Any] | None = None,
    behind: Behind | None = None,
    local_metrics: dict[str, Any] | None = None,
) -> Health:
    """The state of the feed from its runs (newest first) and what was measured: pure."""
    behind = behind or Behind()
    findings: list[Finding] = []
    finished = [r for r in runs if r.outcome in FINISHED_OUTCOMES]
    newest = finished[0] if finished else None
    last_success = next((r for r in finished if r.outcome in SUCCESS_OUTCOMES), None)
    status_sync = status_synced_at(status_payload, now=now)
    synced = [status_sync, last_success.finished_at if last_success else None]
    last_sync = max((moment for moment in synced if moment), default=None)
    last_error = None
    if newest is not None and newest.outcome == "failed":
        last_error = newest.error or "The last run failed without a message."

    try:
        config = definition.config
    except ImproperlyConfigured as exc:
        config = None
        findings.append(Finding(S.FAILING, now, f"settings do not load: {exc}"))

    failures = []
    for run in finished:
        if run.outcome != "failed":
            break
        failures.append(run)
    needed = settings.EXPORT_FAILING_AFTER_RUNS
    if len(failures) >= needed:
        became = list(reversed(failures))[needed - 1]
        what = (
            "the newest run failed"
            if len(failures) == 1
            else f"the last {len(failures)} runs failed"
        )
        findings.append(Finding(S.FAILING, became.finished_at, f"{what}: {last_error}"))

    if last_sync is None:
        reason = "no run yet" if newest is None else "no successful run yet"
        missing = _missing(definition)
        findings.append(Finding(S.NEVER, None, f"{reason}{'; ' + missing if missing else ''}"))
    elif config is not None and not config.schedule_minutes:
        # Exported by its command only (offer events, the via-API copy): nothing to be late
        # against; its runs still make it failing or stuck.
        findings.append(
            Finding(
                S.FRESH, last_sync, f"synced {format_moment(last_sync)}; run by hand, no schedule"
            )
        )
    elif config is not None:
        schedule = timedelta(minutes=config.schedule_minutes)
        grace = timedelta(minutes=settings.EXPORT_FRESHNESS_GRACE_MINUTES)
        fresh_until = last_sync + schedule + grace
        late_until = last_sync + schedule * settings.EXPORT_STALE_AFTER_SCHEDULES
        expected = f"expected every {config.schedule_minutes} minutes"
        if now <= fresh_until:
            spell = _fresh_since(finished, last_sync, schedule + grace)
            findings.append(Finding(S.FRESH, spell, f"synced {format_moment(last_sync)}"))
        elif now <= late_until:
            findings.append(
                Finding(S.LATE, fresh_until, f"last sync {format_moment(last_sync)}, {expected}")
            )
        else:
            missing = _missing(definition)
            reason = f"no sync since {format_moment(last_sync)}, {expected}"
            findings.append(
                Finding(S.STALE, late_until, reason + (f"; {missing}" if missing else ""))
            )

    lag = timedelta(seconds=settings.EXPORT_SAFETY_LAG_SECONDS)
    if (
        newest is not None
        and newest.outcome in SUCCESS_OUTCOMES
        and newest.rows == 0
        and behind.oldest
    ):
        empty = []
        for run in finished:
            if run.outcome not in SUCCESS_OUTCOMES or run.rows:
                break
            if (run.started_at or run.created_at) - lag < behind.oldest:
                break
            if (run.cursor_after or None) != (behind.cursor or None):
                # The cursor moved since (a rewind or a backfill): the rows waiting are for
                # the next run, not ones this run failed to export.
                break
            empty.append(run)
        if empty:
            findings.append(
                Finding(
                    S.STUCK,
                    empty[-1].finished_at,
                    f"{counted(behind.text, definition.unit)}"
                    f" {'waits' if behind.text == '1' else 'wait'} after the cursor (oldest"
                    f" {format_moment(behind.oldest)}) but"
                    + (
                        " the last run exported none"
                        if len(empty) == 1
                        else f" the last {len(empty)} runs exported none"
                    ),
                )
            )

    drift: list[MetricDelta] = []
    if isinstance(definition, SnapshotFeed) and local_metrics is not None:
        exported = (status_payload or {}).get("metrics")
        drift = compare_metrics(
            local_metrics,
            exported if isinstance(exported, dict) else None,
            definition.compared_metrics,
        )
        drifted = [row for row in drift if row.drifted]
        if drifted:
            reason = "exported metrics drift more than 5% from the local window: " + "; ".join(
                row.describe() for row in drifted
            )
            findings.append(Finding(S.FAILING, status_sync or last_sync, reason))

    settled = _worst(findings)
    shown = settled
    active = next((r for r in runs[:1] if r.outcome in ExportRun.ACTIVE_OUTCOMES), None)
    if active is not None:
        running = Finding(
            S.RUNNING, active.started_at or active.created_at, f"run #{active.pk} {active.outcome}"
        )
        shown = _worst([settled, running])
    return Health(
        feed=definition.name,
        state=str(shown.state),
        since=shown.since,
        reason=shown.reason,
        settled=settled,
        last_sync=last_sync,
        last_error=last_error,
        behind=behind,
        drift=drift,
        local_metrics=local_metrics,
    )


def _missing(definition: FeedDefinition) -> str:
    """Which variables this site lacks to run the feed itself, for a state's reason."""
    try:
        missing = definition.missing_settings()
    except ImproperlyConfigured as exc:
        return str(exc)
    if not missing or missing[0].startswith("a schedule"):
        return ""
    return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set here"


# -- looking at a feed (queries) --------------------------------------------------------------
def newest_per_feed(queryset: QuerySet, feeds: list[str], per_feed: int, *, by: str) -> dict:
    """The newest ``per_feed`` rows of each feed (newest first, by ``by`` then id), in one
    query whatever the history's size: a row number per feed, not a query per feed."""
    ranked = (
        queryset.filter(feed__in=feeds)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("feed")], order_by=[F(by).desc(), F("id").desc()]
            )
        )
        .filter(rank__lte=per_feed)
        .order_by(f"-{by}", "-id")
    )
    rows: dict[str, list] = {feed: [] for feed in feeds}
    for row in ranked:
        rows[row.feed].append(row)
    return rows


def recent_runs(feeds: list[str], per_feed: int = HISTORY_RUNS) -> dict[str, list[ExportRun]]:
    """The newest ``per_feed`` runs of each feed (the cards' run lists name who asked)."""
    runs = ExportRun.objects.select_related("requested_by")
    return newest_per_feed(runs, feeds, per_feed, by="created_at")


def close_abandoned(runs: list[ExportRun], now: datetime) -> list[ExportRun]:
    """Record as failed the runs whose process is gone: running with the feed's lock free, or
    queued past the trigger's expiry. Conditional (``WHERE outcome = old``): a run that ends
    meanwhile keeps its own outcome. Updates the given objects in place; returns those this
    look closed."""
    closed = []
    lock_free: dict[str, bool] = {}
    for run in runs:
        if run.outcome == ExportRun.Outcome.RUNNING:
            if run.feed not in lock_free:
                lock_free[run.feed] = not feed_lock_held(run.feed)
            reason = ABANDONED_RUNNING if lock_free[run.feed] else None
        elif run.outcome == ExportRun.Outcome.QUEUED:
            reason = ABANDONED_QUEUED if now - run.created_at > ExportRun.QUEUED_EXPIRY else None
        else:
            continue
        if reason is None:
            continue
        won = ExportRun.objects.filter(pk=run.pk, outcome=run.outcome).update(
            outcome=ExportRun.Outcome.FAILED,
            error=reason,
            started_at=Coalesce(F("started_at"), F("created_at")),
            finished_at=now,
        )
        run.refresh_from_db(fields=["outcome", "error", "started_at", "finished_at"])
        if won:
            closed.append(run)
    return closed


def feed_health(
    definition: FeedDefinition,
    *,
    runs: list[ExportRun],
    now: datetime | None = None,
    status_payload: dict[str, Any] | None = None,
    record_abandoned: bool = True,
) -> Health:
    """Look at one feed: close abandoned runs, count what waits, read the local metrics,
    judge. ``runs`` are its newest runs (``recent_runs``), newest first.

    Closing an abandoned run ends that run, so, as at the end of every run, the feed's state
    is then recorded (``record_abandoned``; ``health_check`` records itself) and its alert
    queued for the task worker, as this look is usually a web request: a run that died and
    was followed by a good one before the monitor looked still said so.
    """
    now = now or timezone.now()
    closed = close_abandoned(runs, now)
    try:
        behind = rows_behind(definition, runs)
    except ImproperlyConfigured as exc:
        behind = Behind(note=str(exc))
    local = None
    if isinstance(definition, SnapshotFeed) and definition.local_metrics is not None:
        local = definition.local_metrics()
    health = judge(
        definition,
        runs=runs,
        now=now,
        status_payload=status_payload,
        behind=behind,
        local_metrics=local,
    )
    if closed and record_abandoned:
        health_record_and_alert(definition, health, now=now, queue_alert=True)
    return health


def read_status(definition: FeedDefinition) -> dict[str, Any] | None:
    """The feed's status payload for a look outside a page (monitor, run end), or None."""
    from exports.status import StatusUnavailable, status_read

    try:
        location = definition.config.status_location
    except ImproperlyConfigured:
        return None
    if not location:
        return None
    try:
        return status_read(location, timeout=settings.EXPORT_CARD_STATUS_TIMEOUT_SECONDS)
    except (StatusUnavailable, OSError, ValueError) as exc:
        logger.info("status of %s unreadable for its health: %s", definition.name, exc)
        return None


# -- recording flips and alerting --------------------------------------------------------------
def alert_class(state: str) -> str:
    """What an alert speaks for: each alerted state itself (late and the bad ones), every
    other settled state "ok" (``never`` to ``fresh`` is a first run, not a recovery)."""
    return state if state in ALERTED_STATES else "ok"


@dataclass(frozen=True)
class Recorded:
    flip: FeedFlip | None  # None: nothing changed, or another process recorded it first
    alert: bool  # this process won the flip and should send its alert


def feed_states(feeds: list[str]) -> dict[str, FeedState]:
    """The FeedState row of each feed, created on first use (badge key included)."""
    states = {state.feed: state for state in FeedState.objects.filter(feed__in=feeds)}
    missing = [feed for feed in feeds if feed not in states]
    if missing:
        FeedState.objects.bulk_create(
            [FeedState(feed=feed) for feed in missing], ignore_conflicts=True
        )
        states.update({s.feed: s for s in FeedState.objects.filter(feed__in=missing)})
    return states


def health_record(health: Health, *, now: datetime | None = None) -> Recorded:
    """Record a change of the feed's settled state, once, whoever else looks at the same time.

    The UPDATE names the state and alert class it read (``WHERE state = old AND alerted =
    old``): of two monitors that read the same row, one updates it and the other's UPDATE
    matches nothing, so only the first records the flip and sends its alert.
    """
    now = now or timezone.now()
    current = feed_states([health.feed])[health.feed]
    new_state = health.settled.state
    new_alerted = alert_class(new_state)
    if new_state == current.state and new_alerted == current.alerted:
        FeedState.objects.filter(feed=health.feed).update(checked_at=now)
        return Recorded(flip=None, alert=False)
    with transaction.atomic():
        won = FeedState.objects.filter(
            feed=health.feed, state=current.state, alerted=current.alerted
        ).update(
            state=new_state,
            since=health.settled.since or now,
            reason=health.settled.reason,
            alerted=new_alerted,
            checked_at=now,
        )
        if not won:
            return Recorded(flip=None, alert=False)
        flip = None
        if new_state != current.state:
            flip = FeedFlip.objects.create(
                feed=health.feed,
                from_state=current.state,
                to_state=new_state,
                at=now,
                reason=health.settled.reason,
            )
    return Recorded(flip=flip, alert=new_alerted != current.alerted)


def card_url(feed: str) -> str:
    from django.urls import reverse

    return f"{settings.SITE_URL}{reverse('reports')}#card-{feed}"


def runs_url(feed: str) -> str:
    from django.urls import reverse

    return f"{settings.SITE_URL}{reverse('admin:exports_exportrun_changelist')}?feed__exact={feed}"


def alert_text(definition: FeedDefinition, health: Health, *, previous: str) -> str:
    title = definition.card.title if definition.card else definition.label
    settled = health.settled
    if settled.state in ALERTED_STATES:
        mark = ":rotating_light:" if settled.state in BAD_STATES else ":warning:"
        lines = [
            f"{mark} {title}: {settled.state} since {format_moment(settled.since)}",
            f"Why: {settled.reason}",
        ]
        if health.last_error:
            lines.append(f"Last error: {health.last_error[:500]}")
    else:
        lines = [f":white_check_mark: {title} recovered: {settled.state} (was {previous})"]
        lines.append(f"Why: {settled.reason}")
    if health.behind.count is not None:
        lines.append(f"Behind: {counted(health.behind.text, definition.unit)}")
    if definition.card:
        lines.append(f"Card: {card_url(definition.name)}")
    else:  # a feed run by hand has no card: its runs in the admin
        lines.append(f"Runs: {runs_url(definition.name)}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Check:
    health: Health
    flip: FeedFlip | None
    alert: SlackOutcome | None


def health_check(
    definition: FeedDefinition,
    *,
    runs: list[ExportRun] | None = None,
    now: datetime | None = None,
    status_payload: dict[str, Any] | None = None,
    read_status_payload: bool = True,
) -> Check:
    """Look at the feed, record a flip and send its alert: ``monitor_exports`` and the end of
    every run call this. Slack is told after the flip is committed: a Slack that times out
    after posting is never posted to again for the same flip (at most once)."""
    now = now or timezone.now()
    if runs is None:
        runs = recent_runs([definition.name])[definition.name]
    if status_payload is None and read_status_payload:
        status_payload = read_status(definition)
    health = feed_health(
        definition, runs=runs, now=now, status_payload=status_payload, record_abandoned=False
    )
    return health_record_and_alert(definition, health, now=now)


def health_record_and_alert(
    definition: FeedDefinition, health: Health, *, now: datetime, queue_alert: bool = False
) -> Check:
    """Record the feed's state if it changed and send that flip's one Slack message, or,
    with ``queue_alert`` (a web request), leave it to the task worker."""
    previous = (
        FeedState.objects.filter(feed=definition.name).values_list("state", flat=True).first()
    )
    recorded = health_record(health, now=now)
    outcome = None
    if recorded.alert:
        text = alert_text(definition, health, previous=previous or S.NEVER)
        flip_id = recorded.flip.pk if recorded.flip is not None else None
        if queue_alert:
            flip_alert_send.enqueue(text, flip_id)
            outcome = SlackOutcome(delivered=False, detail=QUEUED)
            if flip_id is not None:
                FeedFlip.objects.filter(pk=flip_id).update(alert=QUEUED)
        else:
            outcome = alert_send(text, flip_id=flip_id)
    return Check(health=health, flip=recorded.flip, alert=outcome)


def recent_flips(feeds: list[str], per_feed: int = 5) -> dict[str, list[FeedFlip]]:
    """The newest flips of each feed, in one query."""
    return newest_per_feed(FeedFlip.objects.all(), feeds, per_feed, by="at")


def badge_key_rotate(*, feed: str) -> str:
    """Give the feed a new unguessable badge key; the old one stops working at once."""
    from exports.models import new_badge_key

    feed_states([feed])
    key = new_badge_key()
    FeedState.objects.filter(feed=feed).update(badge_key=key)
    return key
