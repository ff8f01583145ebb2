"""Export health: what each feed's card on /admin/reports/ shows.

A card combines two sources: the feed's status payload (SPEC §5, written by whichever job ran
the export, here or in GitHub Actions) and the site's own ``ExportRun`` history. Status
payloads are read with a short timeout, concurrently, and cached briefly, so a slow or broken
status URL costs one card a message, never the page its speed.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from exports import health as feed_health_rules
from exports import registry
from exports.feeds import FeedDefinition
from exports.health import Health, feed_health, feed_states, recent_flips, status_synced_at
from exports.models import CursorChange, ExportRun, FeedFlip, FeedState
from exports.status import StatusUnavailable, status_read, workflow_url
from exports.trigger import run_now_blocked
from smplat.humanize import counted
from smplat.redact import redact_url

logger = logging.getLogger(__name__)

SPARKLINE_RUNS = 24
CARD_RUNS = 5
CARD_CURSOR_CHANGES = 3
FLIPS_SHOWN = 5


def card_feed_names() -> list[str]:
    return [definition.name for definition in registry.card_feeds()]


def downloadable_feeds(user) -> set[str]:
    """The feeds with a download route whose latest artifact ``user`` may download."""
    return {
        d.name
        for d in registry.card_feeds()
        if d.card.download_route and user.has_perms(d.download_permissions)
    }


_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="export-status")


# What a card offers, by permission: the same on /admin/reports/ and /admin/onboarding/.
RUN_PERMISSION = "exports.add_exportrun"
REWIND_PERMISSION = "exports.add_cursorchange"
# Badge URLs are shown to whoever may read the run history; rotating a key needs more.
BADGE_VIEW_PERMISSION = "exports.view_exportrun"
BADGE_ROTATE_PERMISSION = "exports.change_feedstate"


def card_context(request) -> dict:
    """The template context every export card needs besides the card itself."""
    user = request.user
    return {
        "can_run": user.has_perm(RUN_PERMISSION),
        "can_rewind": user.has_perm(REWIND_PERMISSION),
        "downloadable": downloadable_feeds(user),
        "can_see_badges": user.has_perm(BADGE_VIEW_PERMISSION),
        "can_rotate_badge": user.has_perm(BADGE_ROTATE_PERMISSION),
        # The public origin the badge URLs are copied with: SITE_URL, else this request's.
        "site_origin": settings.SITE_URL or request.build_absolute_uri("/").rstrip("/"),
    }


# A message about one card (run now, rewind, new badge key) shows in that card, where the
# redirect to #card-<feed> lands, not at the top of a long page.
CARD_MESSAGE_TAG = "card:"


def card_message(request, level: int, feed: str, text: str) -> None:
    messages.add_message(request, level, text, extra_tags=f"{CARD_MESSAGE_TAG}{feed}")


def card_messages_of(stored: list, feed: str) -> list:
    return [m for m in stored if (m.extra_tags or "") == f"{CARD_MESSAGE_TAG}{feed}"]


@dataclass(frozen=True)
class StatusResult:
    configured: bool
    payload: dict[str, Any] | None = None
    error: str | None = None
    notice: str | None = None  # nothing wrong, nothing to read yet


@dataclass
class FeedCard:
    definition: FeedDefinition
    status: StatusResult
    runs: list[ExportRun] = field(default_factory=list)  # newest first
    now: datetime = field(default_factory=timezone.now)
    # Why "Run export now" cannot work here (the settings it lacks), or None.
    run_blocked: str | None = None
    # Run history and repair (snippets/card_runs.html, snippets/cursor_rewind.html).
    cursor_changes: list[CursorChange] = field(default_factory=list)  # newest first
    artifact_run_id: int | None = None  # the newest run that left a download
    rewind_blocked: str | None = None  # why this feed's cursor cannot be moved here
    # The feed's state, computed by exports.health like everywhere else (badge, monitor).
    health: Health | None = None
    flips: list[FeedFlip] = field(default_factory=list)  # newest first
    record: FeedState | None = None  # the stored state: holds the badge key
    messages: list = field(default_factory=list)  # what the last action on it said

    @property
    def feed(self) -> str:
        return self.definition.name

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def title(self) -> str:
        return self.definition.card.title

    @property
    def schedule_minutes(self) -> int:
        return self.definition.config.schedule_minutes

    # -- what the status payload and the run history say, newest wins --------------------
    @property
    def last_success(self) -> ExportRun | None:
        return next((r for r in self.runs if r.outcome in ("succeeded", "no_data")), None)

    @property
    def active_run(self) -> ExportRun | None:
        run = self.runs[0] if self.runs else None
        return run if run and run.outcome in ExportRun.ACTIVE_OUTCOMES else None

    @property
    def status_synced_at(self) -> datetime | None:
        return status_synced_at(self.status.payload)

    @property
    def last_sync(self) -> datetime | None:
        return self.health.last_sync

    @property
    def status_source(self) -> str:
        """Where the status payload is read from, fit for a page: an s3:// object or a local
        path as configured, an http(s) URL by scheme and host only (a query can be a
        signature)."""
        location = self.definition.config.status_location
        if location.startswith(("http://", "https://")):
            return redact_url(location)
        return location

    @property
    def rows(self) -> int | None:
        payload = self.status.payload or {}
        from_status = payload.get("rows", payload.get("events"))
        status_newer = self.status_synced_at and (
            not self.last_success or self.status_synced_at >= self.last_success.finished_at
        )
        if isinstance(from_status, int) and (status_newer or not self.last_success):
            return from_status
        return self.last_success.rows if self.last_success else None

    @property
    def cursor_stored(self) -> bool:
        """Whether the cursor shown is the one in the feed's cursor store: where the next run
        resumes, a rewind or reset included."""
        behind = self.health.behind if self.health else None
        return behind is not None and behind.source.startswith("cursor store")

    @property
    def cursor(self) -> str | None:
        if self.cursor_stored:
            return self.health.behind.cursor
        payload = self.status.payload or {}
        status_newer = self.status_synced_at and (
            not self.last_success or self.status_synced_at >= self.last_success.finished_at
        )
        if status_newer and isinstance(payload.get("cursor"), str):
            return payload["cursor"]
        if self.last_success and self.last_success.cursor_after:
            return self.last_success.cursor_after
        return payload.get("cursor") if isinstance(payload.get("cursor"), str) else None

    @property
    def age(self) -> timedelta | None:
        return self.now - self.last_sync if self.last_sync else None

    @property
    def state(self) -> str:
        """never, running, fresh, late, stale, failing or stuck (exports/health.py)."""
        return self.health.state

    # The card's colour before the states had a name of their own: kept for older snippets.
    freshness = state

    @property
    def last_error(self) -> str | None:
        return self.health.last_error

    @property
    def badge_svg_path(self) -> str:
        return reverse("feed-badge", kwargs={"key": self.record.badge_key, "kind": "svg"})

    @property
    def badge_json_path(self) -> str:
        return reverse("feed-badge", kwargs={"key": self.record.badge_key, "kind": "json"})

    @property
    def workflow_url(self) -> str | None:
        payload = self.status.payload or {}
        candidate = workflow_url(self.definition) or payload.get("workflowUrl")
        # Rendered as a link: only http(s) URLs, whatever a status file says.
        if isinstance(candidate, str) and candidate.startswith(("https://", "http://")):
            return candidate
        return None

    @property
    def download_route(self) -> str | None:
        return self.definition.card.download_route

    @property
    def download_available(self) -> bool:
        payload = self.status.payload or {}
        return bool(self.download_route) and (
            self.artifact_run_id is not None or isinstance(payload.get("downloadUrl"), str)
        )

    @property
    def recent_runs(self) -> list[ExportRun]:
        """The last five runs, newest first, for the card's run list."""
        return self.runs[:CARD_RUNS]

    @property
    def last_finished(self) -> ExportRun | None:
        """The newest run, once it ended: the card says how ("Run #141 succeeded ...")."""
        run = self.runs[0] if self.runs else None
        return run if run and run.finished_at and run.outcome != "dispatched" else None

    @property
    def metrics(self) -> dict[str, Any] | None:
        metrics = (self.status.payload or {}).get("metrics")
        return metrics if isinstance(metrics, dict) else None

    @property
    def sparkline_runs(self) -> list[ExportRun]:
        """Finished runs, oldest first, for the sparkline."""
        finished = [
            r for r in self.runs if r.outcome not in (*ExportRun.ACTIVE_OUTCOMES, "dispatched")
        ]
        return list(reversed(finished[:SPARKLINE_RUNS]))

    @property
    def sparkline(self) -> list[SparkBar]:
        return sparkline(self.sparkline_runs, self.definition.unit)

    @property
    def in_flight(self) -> ExportRun | None:
        """A run the card should show as under way (queued, running, or just dispatched)."""
        run = self.runs[0] if self.runs else None
        if run is None:
            return None
        if run.outcome in ExportRun.ACTIVE_OUTCOMES:
            return run
        if run.outcome == "dispatched" and self.now - run.created_at < timedelta(minutes=10):
            return run
        return None


def _cache_key(feed: str, version: str = "") -> str:
    return f"export-status:{feed}:{version}"


def _run_version(runs: list[ExportRun]) -> str:
    """Changes whenever the feed's newest run changes state: a run that just finished (in
    the worker, another process with another cache) makes the next view re-read the status."""
    return f"{runs[0].pk}-{runs[0].outcome}" if runs else "none"


def _read_status(feed: str, url: str, version: str = "") -> StatusResult:
    local = url.removeprefix("file://")
    if "://" not in local and not Path(local).exists():
        # A local status file appears with the first run that writes it.
        return StatusResult(
            configured=True, notice="No status file yet: the next run of this site writes it."
        )
    try:
        payload = status_read(url, timeout=settings.EXPORT_CARD_STATUS_TIMEOUT_SECONDS)
        result = StatusResult(configured=True, payload=payload)
    except StatusUnavailable as exc:
        result = StatusResult(configured=True, error=str(exc))
    except Exception as exc:  # a broken status source must not break the page
        logger.exception("reading the %s status failed", feed)
        result = StatusResult(configured=True, error=f"status unreadable: {type(exc).__name__}")
    cache.set(_cache_key(feed, version), result, settings.EXPORT_CARD_CACHE_SECONDS)
    return result


def feed_statuses(
    feeds: list[str], *, refresh: bool = False, versions: dict[str, str] | None = None
) -> dict[str, StatusResult]:
    """Each feed's status payload: from the cache, else read concurrently within the timeout."""
    versions = versions or {}
    results: dict[str, StatusResult] = {}
    pending = {}
    for feed in feeds:
        url = registry.feed(feed).config.status_location
        if not url:
            results[feed] = StatusResult(configured=False)
            continue
        version = versions.get(feed, "")
        cached = None if refresh else cache.get(_cache_key(feed, version))
        if cached is not None:
            results[feed] = cached
        else:
            pending[feed] = _pool.submit(_read_status, feed, url, version)
    deadline = settings.EXPORT_CARD_STATUS_TIMEOUT_SECONDS + 0.5
    started = timezone.now()
    for feed, future in pending.items():
        remaining = deadline - (timezone.now() - started).total_seconds()
        try:
            results[feed] = future.result(timeout=max(remaining, 0.01))
        except FutureTimeout:
            # The read goes on in the background and fills the cache for the next view.
            results[feed] = StatusResult(
                configured=True,
                error=f"status source did not answer within {deadline:.0f} s",
            )
    return results


def recent_runs(feeds: list[str], per_feed: int = SPARKLINE_RUNS) -> dict[str, list[ExportRun]]:
    """The newest ``per_feed`` runs of each feed, in one query whatever the history's size."""
    return feed_health_rules.recent_runs(feeds, per_feed)


def recent_cursor_changes(feeds: list[str]) -> dict[str, list[CursorChange]]:
    """The newest cursor changes of each feed, in one query."""
    return feed_health_rules.newest_per_feed(
        CursorChange.objects.all(), feeds, CARD_CURSOR_CHANGES, by="changed_at"
    )


def artifact_runs(feeds: list[str]) -> dict[str, int]:
    """Each feed's newest succeeded run that left something to download, in one query."""
    return dict(
        ExportRun.objects.filter(feed__in=feeds, outcome=ExportRun.Outcome.SUCCEEDED)
        .exclude(artifacts=[])
        .order_by("feed", "-created_at", "-id")
        .distinct("feed")
        .values_list("feed", "id")
    )


def _rewind_blocked(feed: str) -> str | None:
    from exports.cursor_repair import CursorChangeRefused, rewindable_feed

    try:
        rewindable_feed(feed)
    except CursorChangeRefused as exc:
        return str(exc)
    return None


def feed_cards(feeds: list[str] | None = None, *, refresh: bool = False) -> list[FeedCard]:
    feeds = feeds or card_feed_names()
    runs = recent_runs(feeds)
    changes = recent_cursor_changes(feeds)
    artifacts = artifact_runs(feeds)
    statuses = feed_statuses(
        feeds, refresh=refresh, versions={feed: _run_version(runs[feed]) for feed in feeds}
    )
    now = timezone.now()
    records = feed_states(feeds)
    flips = recent_flips(feeds, FLIPS_SHOWN)
    return [
        FeedCard(
            definition=registry.feed(feed),
            status=statuses[feed],
            runs=runs[feed],
            now=now,
            run_blocked=run_now_blocked(feed),
            cursor_changes=changes[feed],
            artifact_run_id=artifacts.get(feed),
            rewind_blocked=_rewind_blocked(feed),
            # After the look, which records abandoned runs: the card then stops polling.
            health=feed_health(
                registry.feed(feed), runs=runs[feed], now=now, status_payload=statuses[feed].payload
            ),
            flips=flips[feed],
            record=records[feed],
        )
        for feed in feeds
    ]


def forget_status(feed: str) -> None:
    """Drop this process's cached status of the feed, so its card re-reads it."""
    runs = recent_runs([feed], per_feed=1)[feed]
    cache.delete(_cache_key(feed, _run_version(runs)))


@dataclass(frozen=True)
class SparkBar:
    x: float
    y: float
    width: float
    height: float
    outcome: str
    title: str


SPARK_WIDTH, SPARK_HEIGHT, SPARK_GAP = 192, 36, 2


def sparkline(runs: list[ExportRun], unit: str = "rows") -> list[SparkBar]:
    """Bars for the recent runs, oldest left: height by rows, failed runs full height.

    Drawn as inline SVG by templates/reports/snippets/sparkline.html: no chart library.
    """
    if not runs:
        return []
    slot = SPARK_WIDTH / SPARKLINE_RUNS
    most = max((r.rows for r in runs), default=0) or 1
    bars = []
    offset = SPARK_WIDTH - slot * len(runs)  # right-aligned: the newest run at the right edge
    for index, run in enumerate(runs):
        if run.outcome == ExportRun.Outcome.FAILED:
            height = SPARK_HEIGHT
        else:
            height = max(2.0, SPARK_HEIGHT * run.rows / most)
        when = timezone.localtime(run.finished_at or run.created_at).strftime("%Y-%m-%d %H:%M")
        bars.append(
            SparkBar(
                x=round(offset + index * slot, 2),
                y=round(SPARK_HEIGHT - height, 2),
                width=round(slot - SPARK_GAP, 2),
                height=round(height, 2),
                outcome=run.outcome,
                title=f"{when} UTC: {run.get_outcome_display()}, {counted(run.rows, unit)}",
            )
        )
    return bars
