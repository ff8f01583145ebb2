"""Starting export runs: the functions the management commands, the site's "Run export now"
worker and the tests call. Row feeds (``RowFeed``, ``ApiFeed``) and telemetry snapshots
(``SnapshotFeed``) share one lifecycle (``exports/runs.py``): the feed's advisory lock, an
``ExportRun``, the status payload and one Slack message.

For a background task::

    from exports.services import export_run, export_run_enqueue

    run = export_run_enqueue(feed="guardrail_followups", trigger="manual", requested_by=user)
    # ... in the worker thread or process:
    export_run(feed=run.feed, trigger=run.trigger, run=run)   # ExportFailed / FeedBusy on failure
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from django.conf import settings
from django.utils import timezone

from exports import registry
from exports.attempts import attempt_recorder, attempts_prune
from exports.config import FeedConfig
from exports.cursors import build_cursor_store
from exports.engine import RunState, run_batches
from exports.feeds import ApiFeed, FeedDefinition, Filters, RowFeed, SnapshotFeed
from exports.locks import FeedBusy
from exports.models import CursorChange, ExportRun, Feed
from exports.progress import Progress
from exports.runs import ExportFailed, RunEnd, run_feed
from exports.s3 import presigned_url
from exports.sinks import FileSink, S3Sink, build_sink
from exports.sinks.base import Sink, SinkError
from exports.snapshots import snapshot_export
from exports.status import (
    StatusUnavailable,
    check_status_destination,
    status_read,
    status_write,
    workflow_url,
)
from smplat.cursors import format_timestamp, parse_cursor, rows_after
from smplat.pacing import Pacer, exporter_session
from smplat.redact import redact_url
from smplat.watermark import commit_watermark

__all__ = [
    "ExportFailed",
    "ExportOptions",
    "FeedBusy",
    "export_feed",
    "export_run",
    "export_run_enqueue",
    "export_snapshot",
]

logger = logging.getLogger(__name__)


@dataclass
class ExportOptions:
    """The flags of a row exporter (SPEC §4); unset values fall back to the feed's settings."""

    sink: str = "stdout"
    file_path: str | None = None
    webhook_url: str | None = None
    s3_uri: str | None = None
    cursor_store: str | None = None  # None: no checkpoint, each run starts at --cursor
    cursor_store_path: str | None = None
    cursor_store_uri: str | None = None
    cursor: str | None = None
    limit: int | None = None
    batch_size: int | None = None
    provider_id: str | None = None
    lookback_days: int | None = None
    format: str = "ndjson"
    api_url: str | None = None
    stream: BinaryIO | None = field(default=None, repr=False)


def options_from_settings(config: FeedConfig) -> ExportOptions:
    """The options a scheduled or button-started run uses: the feed's ``*_EXPORT_*`` settings.

    The cursor store is S3 when ``*_CURSOR_S3_URI`` is set, else the ``*_CURSOR_PATH`` file
    (the same file a command's ``--cursor-store file`` uses without a path).
    """
    return ExportOptions(
        sink=config.sink or "webhook",
        file_path=config.file_path or None,
        s3_uri=config.s3_uri or None,
        cursor_store="s3" if config.cursor_s3_uri else "file",
        cursor_store_uri=config.cursor_s3_uri or None,
        cursor_store_path=config.cursor_path or None,
    )


def export_run_enqueue(
    *, feed: str, trigger: str = ExportRun.Trigger.MANUAL, requested_by=None
) -> ExportRun:
    """A queued ExportRun for a run that a background task will start with ``export_run``."""
    Feed(feed)  # ValueError for an unknown feed
    return ExportRun.objects.create(feed=feed, trigger=trigger, requested_by=requested_by)


def export_run(
    *,
    feed: str,
    trigger: str = ExportRun.Trigger.MANUAL,
    requested_by=None,
    run: ExportRun | None = None,
) -> ExportRun:
    """Run one export of ``feed`` with its configured sink and cursor store (from settings).

    Returns the finished ExportRun; raises FeedBusy when another run holds the feed (a given
    queued ``run`` is then closed as failed with that reason) and ExportFailed on failure.
    """
    definition = registry.feed(feed)
    if isinstance(definition, SnapshotFeed):
        return export_snapshot(feed=feed, trigger=trigger, requested_by=requested_by, run=run)
    return export_feed(
        feed=feed,
        options=options_from_settings(definition.config),
        trigger=trigger,
        requested_by=requested_by,
        run=run,
    )


def export_feed(
    *,
    feed: str,
    options: ExportOptions,
    trigger: str = ExportRun.Trigger.SCHEDULE,
    requested_by=None,
    run: ExportRun | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> ExportRun:
    """Export a row feed (guardrail follow-ups, segments, offer events) once."""
    definition = registry.row_feed(feed)
    return run_feed(
        definition,
        trigger=trigger,
        requested_by=requested_by,
        run=run,
        sink=options.sink,
        work=lambda run: _export_rows(
            definition, run, options=options, progress=progress, should_stop=should_stop
        ),
    )


def _export_rows(
    definition: RowFeed | ApiFeed,
    run: ExportRun,
    *,
    options: ExportOptions,
    progress: Progress | None,
    should_stop: Callable[[], bool],
) -> RunEnd:
    config = definition.config
    status_destination = config.status_s3_uri
    if status_destination:  # refused before any row leaves, not after
        check_status_destination(status_destination)
    webhook_url = options.webhook_url or config.webhook_url
    sink = build_sink(
        options.sink,
        envelope=definition.envelope,
        file_path=options.file_path,
        webhook_url=webhook_url,
        s3_uri=options.s3_uri,
        format=options.format,
        stream=options.stream,
        on_attempt=attempt_recorder(run),
    )
    run.destination = sink_destination(sink, webhook_url=webhook_url)
    store = None
    if options.cursor_store:
        store = build_cursor_store(
            options.cursor_store,
            path=options.cursor_store_path or config.cursor_path,
            uri=options.cursor_store_uri,
        )
    start = definition.parse_cursor(options.cursor) if options.cursor else None
    if not options.cursor and store:
        start = store.load()
    run.cursor_before = start
    run.save(update_fields=["cursor_before", "destination"])
    if store is not None and not options.cursor:
        # Cursors moved by hand since the last run: this run is the one that acts on them.
        CursorChange.objects.filter(feed=definition.name, next_run__isnull=True).update(
            next_run=run
        )
    state = RunState(feed=definition.name, cursor_before=start)
    watermark = commit_watermark(settings.EXPORT_SAFETY_LAG_SECONDS)
    pacer = Pacer(settings.EXPORT_NICE_RATIO)
    try:
        with exporter_session():
            run_batches(
                batches=_batches(definition, start, options, sink, watermark.at, pacer),
                sink=sink,
                store=store,
                state=state,
                progress=progress,
                should_stop=should_stop,
            )
    finally:
        run.rows, run.cursor_after, run.batches = state.rows, state.cursor_after, state.batches
        run.artifacts = sink_artifacts(sink, rows=state.rows)
        if options.sink == "webhook":
            attempts_prune(feed=definition.name)
        if pacer.slept:
            logger.info("export run %s of %s %s", run.pk, definition.name, pacer.summary())
    if state.interrupted:
        raise InterruptedError(f"stopped by a signal after {state.rows} rows; the cursor is saved")
    if status_destination:
        _write_row_feed_status(definition, run, sink, status_destination)
    return RunEnd(
        ExportRun.Outcome.SUCCEEDED if state.rows else ExportRun.Outcome.NO_DATA,
        detail=pacer.summary(),
        notice=_held_back(definition, state.cursor_after, options, watermark),
    )


def sink_destination(sink: Sink, *, webhook_url: str | None = None) -> str:
    """Where a run's rows went, fit for a page: a webhook by scheme, host and port only (its
    path and query can be its secret), an S3 prefix, a file path, or stdout."""
    if isinstance(sink, S3Sink):
        return str(sink.root)
    if isinstance(sink, FileSink):
        return str(sink.path)
    if sink.name == "webhook":
        return redact_url(webhook_url or "")
    return sink.name


def sink_artifacts(sink: Sink, *, rows: int) -> list[str]:
    """What the run left to download: its S3 objects in row order, or the NDJSON file it
    appended to, as the byte range it wrote (nothing when it wrote no row, or wrote CSV)."""
    if not rows:
        return []
    if isinstance(sink, S3Sink):
        return [str(location) for location in sink.locations]
    if isinstance(sink, FileSink) and sink.format == "ndjson":
        artifact = sink.artifact()
        return [artifact] if artifact else []
    return []


HELD_BACK_CAP = 100_000


def _held_back(
    definition: RowFeed | ApiFeed, cursor: str | None, options: ExportOptions, watermark
) -> str:
    """ "12 newer rows wait for a transaction open since 10:02:11 UTC (pid 4242)": the rows
    after the run's cursor that the watermark kept for a later run, counted up to a cap."""
    reason = watermark.reason()
    if not reason or not isinstance(definition, RowFeed):
        return ""
    ts = definition.timestamp_field
    waiting = _filtered(definition, options).filter(**{f"{ts}__gte": watermark.at})
    if cursor:
        waiting = rows_after(
            waiting, parse_cursor(cursor, id_kind=definition.id_kind), timestamp_field=ts
        )
    count = waiting.order_by().values("pk")[: HELD_BACK_CAP + 1].count()
    if not count:
        return ""
    shown = f"{HELD_BACK_CAP:,}+" if count > HELD_BACK_CAP else f"{count:,}"
    return f"{shown} newer {'row waits' if count == 1 else 'rows wait'} for {reason}"


def _filtered(definition: RowFeed, options: ExportOptions):
    return definition.queryset(_filters(options))


def _filters(options: ExportOptions) -> Filters:
    since = None
    if options.lookback_days is not None:
        since = timezone.now() - timedelta(days=options.lookback_days)
    equals = {"provider_id": options.provider_id} if options.provider_id else {}
    return Filters(equals=equals, since=since)


def _batches(
    definition: RowFeed | ApiFeed,
    start: str | None,
    options: ExportOptions,
    sink: Sink,
    watermark: datetime,
    pacer: Pacer,
):
    batch_size = options.batch_size or settings.EXPORT_BATCH_SIZE or sink.default_batch_size
    if isinstance(definition, RowFeed):
        return definition.batches(
            start=start,
            batch_size=batch_size,
            limit=options.limit,
            filters=_filters(options),
            watermark=watermark,
            pacer=pacer,
        )
    api_url = options.api_url or settings.REPORTING_API_URL
    if not api_url:
        raise ValueError("no reporting API URL: pass --api-url or set REPORTING_API_URL")
    return definition.batches(
        start=start,
        batch_size=batch_size,
        limit=options.limit,
        api_url=api_url,
        api_key=settings.CHECKOUT_API_KEY,
    )


def _write_row_feed_status(
    definition: FeedDefinition, run: ExportRun, sink: Sink, destination: str
) -> None:
    """``{cursor, rows, updatedAt, downloadUrl, workflowUrl}`` to ``*_STATUS_S3_URI``.

    ``downloadUrl`` is a presigned link to the whole run when the sink is S3 (its one object,
    or one object the run's objects are copied into); a run that found nothing keeps the
    previous link (the newest rows are still there).
    """
    download_url = None
    try:
        location = sink.whole_run_location(definition.name) if isinstance(sink, S3Sink) else None
    except SinkError as exc:
        raise OSError(f"rows delivered, but the status payload was not written: {exc}") from exc
    if location:
        download_url = presigned_url(location)
    elif not run.rows:
        try:
            download_url = status_read(destination).get("downloadUrl")
        except StatusUnavailable:
            download_url = None
    payload: dict[str, Any] = {
        "cursor": run.cursor_after,
        "rows": run.rows,
        "updatedAt": format_timestamp(timezone.now()),
        "downloadUrl": download_url,
        "workflowUrl": workflow_url(definition),
    }
    try:
        status_write(destination, payload)
    except Exception as exc:
        raise OSError(f"rows delivered, but the status payload was not written: {exc}") from exc


def export_snapshot(
    *,
    feed: str,
    trigger: str = ExportRun.Trigger.SCHEDULE,
    requested_by=None,
    run: ExportRun | None = None,
    url: str | None = None,
    bucket: str | None = None,
    prefix: str | None = None,
    status_uri: str | None = None,
) -> ExportRun:
    """Export a telemetry snapshot (quick-order or guardrail workflow) once.

    A 404 from the capture route means no events yet: the run ends as ``no_data``.
    """
    definition = registry.feed(feed)
    assert isinstance(definition, SnapshotFeed), feed

    def work(run: ExportRun) -> RunEnd:
        config = definition.config
        landing_bucket = bucket or config.bucket
        landing_prefix = config.s3_prefix if prefix is None else prefix
        run.destination = f"s3://{landing_bucket}/{landing_prefix.strip('/')}".rstrip("/")
        result = snapshot_export(
            definition,
            url=url or config.url,
            bucket=landing_bucket,
            prefix=landing_prefix,
            status_uri=config.status_s3_uri if status_uri is None else status_uri,
            api_key=settings.CHECKOUT_API_KEY,
        )
        run.rows = result.events
        if result.no_events:
            return RunEnd(ExportRun.Outcome.NO_DATA, "No events yet (capture route answered 404).")
        run.cursor_after = str(result.location)
        run.artifacts = [str(result.location)]
        return RunEnd(
            ExportRun.Outcome.SUCCEEDED, _metrics_line(result.status), notice=result.notice
        )

    return run_feed(
        definition, trigger=trigger, requested_by=requested_by, run=run, sink="s3", work=work
    )


def _metrics_line(status: dict[str, Any] | None) -> str:
    metrics = (status or {}).get("metrics") or {}
    shown = {k: v for k, v in metrics.items() if not isinstance(v, dict | list)}
    return ", ".join(f"{k}={v}" for k, v in shown.items())
