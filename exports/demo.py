"""Demo export history: a day of scheduled runs per feed with a card (part of
``smplat.demo.seed_dashboard``, seeded after the rows it describes), with the health flips
that history went through, so a new site shows fresh, late and failing cards."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from exports import registry
from exports.feeds import FeedDefinition, RowFeed, SnapshotFeed
from exports.health import alert_class, judge
from exports.models import ExportRun, Feed, FeedFlip, FeedState
from exports.snapshots import object_location
from smplat.cursors import format_cursor, parse_cursor, rows_after
from smplat.demo import Rng, SeedReport

# How each demo feed's day ends: its runs stopped an hour ago (late), or its last two runs
# failed (failing); the others are fresh.
ENDINGS = {Feed.QUICK_ORDER_TELEMETRY: "late", Feed.GUARDRAIL_WORKFLOW_TELEMETRY: "failing"}
DEMO_FAILURES = {
    "failing": "S3 upload failed: AccessDenied (s3://smplat-exports/telemetry/guardrail-workflow/)",
}


def seed_export_history(now: datetime, report: SeedReport, rng: random.Random) -> None:
    """A day of scheduled runs per feed, so a new site's history is not blank.

    The history agrees with the data: a row feed's run ends at the real position of the
    newest row it could have sent and counts the rows it passed, and a telemetry run names
    the S3 object it would have written. A demo's first "Run export now" then moves the
    cursor forward from there, never back.
    """
    for definition in registry.card_feeds():
        feed = definition.name
        every = timedelta(minutes=definition.config.schedule_minutes)
        sink = "s3" if isinstance(definition, SnapshotFeed) else "webhook"
        if ExportRun.objects.filter(feed=feed).exists():
            continue
        runs = []
        cursor = None
        ending = ENDINGS.get(feed, "fresh")
        # The last run at ``end``: a minute ago, or 50 minutes ago for the late feed (late
        # past schedule + grace, 45 minutes on a 30-minute schedule, until 90 minutes).
        end = now - timedelta(minutes=50 if ending == "late" else 1)
        moment = end - timedelta(hours=24)
        while moment + every <= end:
            moment += every
            last_ones = moment > end - every * 2
            failed = rng.random() < 0.04 if not last_ones else ending == "failing"
            if isinstance(definition, RowFeed):
                after, rows = _row_feed_position(definition, cursor, moment)
            else:
                location = object_location(
                    definition, bucket="smplat-exports", prefix="telemetry", at=moment
                )
                after, rows = str(location), rng.randint(0, 40)
            runs.append(
                ExportRun(
                    feed=feed,
                    trigger="schedule",
                    sink=sink,
                    created_at=moment,
                    started_at=moment,
                    finished_at=moment + timedelta(seconds=rng.randint(2, 40)),
                    outcome="failed" if failed else ("succeeded" if rows else "no_data"),
                    rows=0 if failed else rows,
                    cursor_before=cursor,
                    cursor_after=cursor if failed else after,
                    error=(
                        DEMO_FAILURES.get(
                            ending, "Webhook answered 503 Service Unavailable after 5 attempts"
                        )
                        if last_ones
                        else "Webhook answered 503 Service Unavailable after 5 attempts"
                    )
                    if failed
                    else "",
                )
            )
            if not failed and isinstance(definition, RowFeed):
                cursor = after
        ExportRun.objects.bulk_create(runs)
        report.add("export runs", len(runs))
        report.add("health flips", _seed_flips(definition, runs, now))


def _seed_flips(definition: FeedDefinition, runs: list[ExportRun], now: datetime) -> int:
    """Replay the health rule (exports.health.judge) at the end of every run and now, and
    keep each change of the settled state, as the monitor would have recorded it."""
    state, since, reason = "never", None, ""
    flips = []
    moments = [run.finished_at for run in runs] + [now]
    for index, moment in enumerate(moments):
        history = list(reversed(runs[: index + 1])) if index < len(runs) else list(reversed(runs))
        settled = judge(definition, runs=history, now=moment).settled
        if settled.state != state:
            flips.append(
                FeedFlip(
                    feed=definition.name,
                    from_state=state,
                    to_state=settled.state,
                    at=moment,
                    reason=settled.reason,
                    alert="demo: not sent",
                )
            )
            state, since, reason = settled.state, settled.since or moment, settled.reason
    FeedFlip.objects.bulk_create(flips)
    FeedState.objects.update_or_create(
        feed=definition.name,
        defaults={
            "state": state,
            "since": since,
            "reason": reason,
            "alerted": alert_class(state),
            "checked_at": now,
        },
    )
    return len(flips)


def _row_feed_position(
    definition: RowFeed, cursor: str | None, moment: datetime
) -> tuple[str | None, int]:
    """Where a run of a row feed at ``moment`` (five seconds of safety lag) would end after
    ``cursor``, and how many rows it would send."""
    ts = definition.timestamp_field
    pending = definition.model.objects.filter(**{f"{ts}__lte": moment - timedelta(seconds=5)})
    if cursor:
        pending = rows_after(
            pending, parse_cursor(cursor, id_kind=definition.id_kind), timestamp_field=ts
        )
    newest = pending.order_by(f"-{ts}", "-id").values_list(ts, "id").first()
    if newest is None:
        return cursor, 0
    return format_cursor(*newest), pending.count()


def seed(now: datetime, report: SeedReport, rng: Rng, seed: int) -> None:
    seed_export_history(now, report, rng("export-history"))
