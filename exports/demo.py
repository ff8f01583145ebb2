"""Demo export history: a day of scheduled runs per feed with a card (part of
``smplat.demo.seed_dashboard``, seeded after the rows it describes), with the health flips
that history went through, so a new site shows fresh, late and failing cards."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings

from exports import registry
from exports.cursors import build_cursor_store
from exports.engine import RunState, run_batches
from exports.feeds import FeedDefinition, Filters, RowFeed, SnapshotFeed
from exports.health import alert_class, judge
from exports.models import CursorChange, DeliveryAttempt, ExportRun, Feed, FeedFlip, FeedState
from exports.sinks import FileSink
from exports.snapshots import object_location
from smplat.cursors import format_cursor, parse_cursor, rows_after
from smplat.demo import Rng, SeedReport
from smplat.redact import redact_url

# How each demo feed's day ends: its runs stopped a little over a schedule and its grace ago
# (late), or its last two runs failed (failing); the others are fresh. (In `make run` the
# quick-order card is failing too: its demo status payload drifts, issue #17.)
ENDINGS = {
    Feed.ONBOARDING_PRICING_SEGMENTS: "late",
    Feed.GUARDRAIL_WORKFLOW_TELEMETRY: "failing",
}

# Why a seeded run failed, as that sink would say it.
FAILURES = {
    "file": "cannot write {destination}: [Errno 28] No space left on device",
    "webhook": "webhook delivery failed: POST {destination} failed after 5 attempts:"
    " 503 Service Unavailable",
    "s3": "S3 upload to {destination} failed: SlowDown Please reduce your request rate.",
}


def _sink_and_destination(definition) -> tuple[str, str]:
    """The sink the feed's settings name, and where it writes (as the run page shows it)."""
    if isinstance(definition, SnapshotFeed):
        config = definition.config
        return "s3", f"s3://{config.bucket or 'smplat-exports'}/{config.s3_prefix or 'telemetry'}"
    config = definition.config
    sink = config.sink or "webhook"
    destination = {
        "file": config.file_path,
        "s3": config.s3_uri,
        "webhook": redact_url(config.webhook_url) if config.webhook_url else "",
    }.get(sink, "")
    return sink, destination


def seed_export_history(now: datetime, report: SeedReport, rng: random.Random) -> None:
    """A day of scheduled runs per feed, so a new site's history is not blank.

    The history agrees with the demo: each run names the sink and destination the feed's
    settings configure; a row feed's run ends at the real position of the newest row it
    could have sent and counts the rows it passed; a telemetry run names the S3 object it
    would have written. With a file sink (``make run``), the rows the history claims are
    written to that file and the last run's cursor to the feed's cursor store, so the
    demo's first "Run export now" sends only what arrived since, and "Download latest
    NDJSON" serves the file. Each feed shows succeeded, no-new-data and failed runs; a row
    feed also shows a rewind to the beginning two thirds in (the next run re-sends every row,
    and a file sink holds them twice, as a real one would), and webhook runs their attempts.
    """
    for definition in registry.card_feeds():
        feed = definition.name
        if ExportRun.objects.filter(feed=feed).exists():
            continue
        every = timedelta(minutes=definition.config.schedule_minutes)
        sink, destination = _sink_and_destination(definition)
        runs = []
        cursor = None
        ending = ENDINGS.get(feed, "fresh")
        # The last run at ``end``: a minute ago, or for the late feed five minutes past its
        # schedule and grace (late from there until EXPORT_STALE_AFTER_SCHEDULES schedules:
        # 80 minutes ago on a 60-minute schedule, late for the next 100 minutes).
        grace = timedelta(minutes=settings.EXPORT_FRESHNESS_GRACE_MINUTES)
        end = now - (
            every + grace + timedelta(minutes=5) if ending == "late" else timedelta(minutes=1)
        )
        moment = end - timedelta(hours=24)
        moments = []
        while moment + every <= end:
            moment += every
            moments.append(moment)
        # One failure a third of the way in (then ~4% at random): every outcome shows; the
        # failing feed's last two runs fail, the others' last two succeed.
        forced_failure = len(moments) // 3
        rewind_at = 2 * len(moments) // 3
        change = None
        for index, moment in enumerate(moments):
            last_ones = index >= len(moments) - 2
            failed = index == forced_failure or rng.random() < 0.04
            if last_ones:
                failed = ending == "failing"
            if index == rewind_at and isinstance(definition, RowFeed):
                failed = False
                change = CursorChange(
                    feed=feed,
                    actor="demo",
                    via=CursorChange.Via.CARD,
                    changed_at=moment - timedelta(minutes=10),
                    cursor_from=cursor,
                    cursor_to=None,
                    reason="Demo: the warehouse lost a day; re-sending everything.",
                    rows_to_resend=_row_feed_position(definition, None, moment)[1],
                )
                cursor = None
            if isinstance(definition, RowFeed):
                after, rows = _row_feed_position(definition, cursor, moment)
            else:
                location = object_location(
                    definition, bucket="smplat-exports", prefix="telemetry", at=moment
                )
                # A snapshot lands the whole window: the events recorded by then.
                after, rows = str(location), _window_at(definition, moment)
            runs.append(
                ExportRun(
                    feed=feed,
                    trigger="schedule",
                    sink=sink,
                    destination=destination,
                    created_at=moment,
                    started_at=moment,
                    finished_at=moment + timedelta(seconds=rng.randint(2, 40)),
                    outcome="failed" if failed else ("succeeded" if rows else "no_data"),
                    rows=0 if failed else rows,
                    batches=0 if failed else -(-rows // 10_000),
                    cursor_before=cursor,
                    cursor_after=cursor if failed else after,
                    error=FAILURES.get(sink, "").format(destination=destination or sink)
                    if failed
                    else "",
                )
            )
            if not failed and isinstance(definition, RowFeed):
                cursor = after
        if isinstance(definition, RowFeed) and sink == "file":
            _write_file_sink(definition, runs)
        ExportRun.objects.bulk_create(runs)
        report.add("export runs", len(runs))
        if change is not None:
            change.next_run = runs[rewind_at]
            change.save()
            report.add("cursor changes", 1)
        if sink == "webhook":
            attempts = _webhook_attempts(runs, rng)
            DeliveryAttempt.objects.bulk_create(attempts)
            report.add("delivery attempts", len(attempts))
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


def _webhook_attempts(runs: list[ExportRun], rng: random.Random) -> list[DeliveryAttempt]:
    """What a webhook run's page shows: one accepted POST per batch, and a failed run's five
    refused tries of its first batch."""
    attempts = []
    for run in runs:
        if run.outcome == "failed":
            tries = [(1, n, 503) for n in range(1, 6)]
        else:
            tries = [(batch, 1, 200) for batch in range(1, run.batches + 1)]
        for batch, attempt, status in tries:
            attempts.append(
                DeliveryAttempt(
                    run=run,
                    batch=batch,
                    attempt=attempt,
                    status=status,
                    error="" if status == 200 else "503 Service Unavailable",
                    latency_ms=rng.randint(40, 900),
                    webhook_id=f"msg_{rng.getrandbits(128):032x}",
                    attempted_at=run.started_at + timedelta(seconds=attempt),
                )
            )
    return attempts


def _write_file_sink(definition: RowFeed, runs: list[ExportRun]) -> None:
    """Make the file sink and the cursor store hold what the seeded history says it sent:
    every row up to the last successful run's cursor (the engine's own loop writes them)."""
    config = definition.config
    succeeded = [run for run in runs if run.outcome == "succeeded"]
    if not succeeded or not config.file_path or not (config.cursor_path or config.cursor_s3_uri):
        return
    path = Path(config.file_path)
    path.unlink(missing_ok=True)  # a demo folder of an earlier database: start over
    store = (
        build_cursor_store("s3", uri=config.cursor_s3_uri)
        if config.cursor_s3_uri
        else build_cursor_store("file", path=config.cursor_path)
    )
    # Replayed run by run: after the rewind the file holds the re-sent rows again.
    for run in succeeded:
        until = parse_cursor(run.cursor_after, id_kind=definition.id_kind).timestamp
        state = RunState(feed=definition.name, cursor_before=run.cursor_before)
        sink = FileSink(path)
        run_batches(
            batches=definition.batches(
                start=run.cursor_before,
                batch_size=10_000,
                limit=None,
                filters=Filters(),
                # Rows up to and including the run's last timestamp (the watermark is strict).
                watermark=until + timedelta(microseconds=1),
            ),
            sink=sink,
            store=store,
            state=state,
        )
        assert state.rows == run.rows and state.cursor_after == run.cursor_after, run
        run.artifacts = [artifact] if (artifact := sink.artifact()) else []


def _window_at(definition, moment: datetime) -> int:
    """The snapshot feed's window as a run at ``moment`` would have landed it: the events
    of today's window recorded by then."""
    if definition.pending is None:
        return 0
    everything, _ = definition.pending(None, 10**7)
    later, _ = definition.pending(moment, 10**7)
    return everything - later


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
