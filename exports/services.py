"""Starting export runs: the functions the management commands, the site's "Run export now"
and the tests call. Each run takes the feed's advisory lock, is recorded as an ``ExportRun``,
writes the feed's status payload and posts one Slack message when configured.

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
from datetime import timedelta
from typing import Any, BinaryIO

from django.conf import settings
from django.utils import timezone

from exports.cursors import CursorStoreError, build_cursor_store
from exports.engine import RunState, high_water_mark, run_batches
from exports.feeds import ROW_FEEDS, ApiFeed, FeedDefinition, Filters, RowFeed
from exports.http import DeliveryFailed
from exports.locks import FeedBusy, feed_lock
from exports.models import ExportRun, Feed
from exports.notifications import slack_notify
from exports.progress import Progress
from exports.s3 import S3Failed, parse_s3_uri, presigned_url
from exports.sinks import SinkError, build_sink
from exports.sinks.base import Sink
from exports.snapshots import SNAPSHOT_FEEDS, SnapshotConfigurationError, snapshot_export
from exports.status import (
    StatusUnavailable,
    check_status_destination,
    status_read,
    status_write,
    workflow_url,
)
from smplat.cursors import format_timestamp
from smplat.logs import export_run_bind, export_run_finished

logger = logging.getLogger(__name__)

__all__ = [
    "ExportFailed",
    "ExportOptions",
    "FeedBusy",
    "export_feed",
    "export_run",
    "export_run_enqueue",
    "export_snapshot",
]

# Failures that are about the outside world or the configuration, reported in one line;
# anything else is a bug and is logged with its traceback as well.
EXPECTED_ERRORS = (
    S3Failed,
    SinkError,
    CursorStoreError,
    DeliveryFailed,
    SnapshotConfigurationError,
    ValueError,
    OSError,
)


class ExportFailed(Exception):
    """The run failed; ``run`` is its ExportRun (outcome failed, error set)."""

    def __init__(self, message: str, *, run: ExportRun):
        super().__init__(message)
        self.run = run


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


def _setting(definition: FeedDefinition, suffix: str) -> str:
    return getattr(settings, f"{definition.settings_prefix}_{suffix}", "")


def options_from_settings(feed: str) -> ExportOptions:
    """The options a scheduled or button-started run uses: the feed's ``*_EXPORT_*`` settings.

    The cursor store is S3 when ``*_CURSOR_S3_URI`` is set, else the ``*_CURSOR_PATH`` file.
    """
    definition = ROW_FEEDS[feed]
    cursor_uri = _setting(definition, "CURSOR_S3_URI")
    return ExportOptions(
        sink=_setting(definition, "SINK") or "webhook",
        file_path=_setting(definition, "FILE_PATH") or None,
        s3_uri=_setting(definition, "S3_URI") or None,
        cursor_store="s3" if cursor_uri else "file",
        cursor_store_uri=cursor_uri or None,
        cursor_store_path=_setting(definition, "CURSOR_PATH") or definition.default_cursor_file,
    )


def missing_settings(feed: str) -> list[str]:
    """The variables a run of ``feed`` with its settings (``export_run``) needs and lacks:
    such a run could only fail, so the site offers none until they are set."""
    if feed in SNAPSHOT_FEEDS:
        prefix = SNAPSHOT_FEEDS[feed].settings_prefix
        names = [f"{prefix}_URL", f"{prefix}_BUCKET"]
        return [name for name in names if not getattr(settings, name, "")]
    definition = ROW_FEEDS[feed]
    options = options_from_settings(feed)
    needed = {
        "webhook": definition.webhook_setting,
        "file": f"{definition.settings_prefix}_FILE_PATH",
        "s3": f"{definition.settings_prefix}_S3_URI",
    }.get(options.sink)
    if needed is None:
        return [f"{definition.settings_prefix}_SINK (webhook, file or s3)"]
    return [] if getattr(settings, needed, "") else [needed]


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
    if feed in SNAPSHOT_FEEDS:
        return export_snapshot(feed=feed, trigger=trigger, requested_by=requested_by, run=run)
    return export_feed(
        feed=feed,
        options=options_from_settings(feed),
        trigger=trigger,
        requested_by=requested_by,
        run=run,
    )


def _run_begin(
    *, feed: str, trigger: str, requested_by, run: ExportRun | None, sink: str
) -> ExportRun:
    run = run or ExportRun(feed=feed, trigger=trigger, requested_by=requested_by)
    run.outcome = ExportRun.Outcome.RUNNING
    run.started_at = timezone.now()
    run.sink = sink
    run.external_url = (workflow_url(feed) or "") if settings.GITHUB_RUN_ID else ""
    run.save()
    export_run_bind(run)  # this process's log lines from here on carry the run id
    return run


def _run_finish(run: ExportRun, *, outcome: str, error: str = "") -> None:
    run.outcome = outcome
    run.error = error
    run.finished_at = timezone.now()
    run.save()
    export_run_finished(run)


def _refuse_busy(run: ExportRun | None, exc: FeedBusy) -> None:
    if run is not None:
        run.started_at = run.started_at or timezone.now()
        _run_finish(run, outcome=ExportRun.Outcome.FAILED, error=str(exc))


def _slack_text(label: str, run: ExportRun, extra: str = "") -> str:
    icon = {"succeeded": ":white_check_mark:", "no_data": ":information_source:"}.get(
        run.outcome, ":x:"
    )
    text = (
        f"{icon} {label} export {run.get_outcome_display().lower()}: {run.rows:,} rows"
        f" via {run.sink or 'n/a'}, next cursor {run.cursor_after or '(none)'}"
        f" (run #{run.pk}, {run.trigger})"
    )
    if extra:
        text += f"\n{extra}"
    if run.error:
        text += f"\nError: {run.error}"
    if run.external_url:
        text += f"\n{run.external_url}"
    return text


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
    definition = ROW_FEEDS[feed]
    try:
        with feed_lock(feed):
            return _export_feed_locked(
                definition,
                options=options,
                trigger=trigger,
                requested_by=requested_by,
                run=run,
                progress=progress,
                should_stop=should_stop,
            )
    except FeedBusy as exc:
        _refuse_busy(run, exc)
        raise


def _export_feed_locked(
    definition: FeedDefinition,
    *,
    options: ExportOptions,
    trigger: str,
    requested_by,
    run: ExportRun | None,
    progress: Progress | None,
    should_stop: Callable[[], bool],
) -> ExportRun:
    run = _run_begin(
        feed=definition.name,
        trigger=trigger,
        requested_by=requested_by,
        run=run,
        sink=options.sink,
    )
    state = RunState(feed=definition.name, cursor_before=None)
    sink: Sink | None = None
    try:
        status_destination = _setting(definition, "STATUS_S3_URI")
        if status_destination:  # refused before any row leaves, not after
            check_status_destination(status_destination)
        sink = build_sink(
            options.sink,
            envelope=definition.envelope,
            file_path=options.file_path,
            webhook_url=options.webhook_url
            or (
                getattr(settings, definition.webhook_setting, "")
                if definition.webhook_setting
                else ""
            ),
            s3_uri=options.s3_uri,
            format=options.format,
            stream=options.stream,
        )
        store = None
        if options.cursor_store:
            store = build_cursor_store(
                options.cursor_store,
                path=options.cursor_store_path or definition.default_cursor_file,
                uri=options.cursor_store_uri,
            )
        if options.cursor:
            start = definition.parse_cursor(options.cursor)
        else:
            start = store.load() if store else None
        state = RunState(feed=definition.name, cursor_before=start)
        run.cursor_before = start
        run.save(update_fields=["cursor_before"])
        batch_size = options.batch_size or settings.EXPORT_BATCH_SIZE or sink.default_batch_size
        if isinstance(definition, RowFeed):
            since = None
            if options.lookback_days is not None:
                since = timezone.now() - timedelta(days=options.lookback_days)
            batches = definition.batches(
                start=start,
                batch_size=batch_size,
                limit=options.limit,
                filters=Filters(provider_id=options.provider_id, since=since),
                high_water_mark=high_water_mark(settings.EXPORT_SAFETY_LAG_SECONDS),
            )
        else:
            assert isinstance(definition, ApiFeed)
            api_url = options.api_url or settings.REPORTING_API_URL
            if not api_url:
                raise ValueError("no reporting API URL: pass --api-url or set REPORTING_API_URL")
            batches = definition.batches(
                start=start,
                batch_size=batch_size,
                limit=options.limit,
                api_url=api_url,
                api_key=settings.CHECKOUT_API_KEY,
                until=timezone.now() - timedelta(seconds=settings.EXPORT_SAFETY_LAG_SECONDS),
            )
        run_batches(
            batches=batches,
            sink=sink,
            store=store,
            state=state,
            progress=progress,
            should_stop=should_stop,
        )
        if state.interrupted:
            raise InterruptedError(
                f"stopped by a signal after {state.rows} rows; the cursor is saved"
            )
        run.rows, run.cursor_after = state.rows, state.cursor_after
        _write_row_feed_status(definition, run, sink)
    except Exception as exc:
        if not isinstance(exc, EXPECTED_ERRORS):
            logger.exception("export of %s failed", definition.name)
        run.rows, run.cursor_after = state.rows, state.cursor_after
        _run_finish(run, outcome=ExportRun.Outcome.FAILED, error=str(exc) or type(exc).__name__)
        slack_notify(
            webhook_url=getattr(settings, definition.slack_setting, ""),
            text=_slack_text(definition.label, run),
        )
        raise ExportFailed(str(exc), run=run) from exc
    _run_finish(
        run,
        outcome=ExportRun.Outcome.SUCCEEDED if state.rows else ExportRun.Outcome.NO_DATA,
    )
    slack_notify(
        webhook_url=getattr(settings, definition.slack_setting, ""),
        text=_slack_text(definition.label, run),
    )
    return run


def _write_row_feed_status(definition: FeedDefinition, run: ExportRun, sink: Sink) -> None:
    """``{cursor, rows, updatedAt, downloadUrl, workflowUrl}`` to ``*_STATUS_S3_URI``.

    ``downloadUrl`` is a presigned link to the newest object when the sink is S3; a run that
    found nothing keeps the previous link (the newest rows are still there).
    """
    destination = _setting(definition, "STATUS_S3_URI")
    if not destination:
        return
    download_url = None
    location = sink.download_location()
    if location:
        download_url = presigned_url(parse_s3_uri(location))
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
        "workflowUrl": workflow_url(definition.name),
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
    definition = SNAPSHOT_FEEDS[feed]
    try:
        with feed_lock(feed):
            run = _run_begin(
                feed=feed, trigger=trigger, requested_by=requested_by, run=run, sink="s3"
            )
            slack_url = definition.setting("SLACK_WEBHOOK")
            try:
                result = snapshot_export(
                    definition,
                    url=url or definition.setting("URL"),
                    bucket=bucket or definition.setting("BUCKET"),
                    prefix=definition.setting("S3_PREFIX") if prefix is None else prefix,
                    status_uri=definition.setting("STATUS_S3_URI")
                    if status_uri is None
                    else status_uri,
                    api_key=settings.CHECKOUT_API_KEY,
                )
            except Exception as exc:
                if not isinstance(exc, EXPECTED_ERRORS):
                    logger.exception("export of %s failed", feed)
                _run_finish(run, outcome=ExportRun.Outcome.FAILED, error=str(exc))
                slack_notify(webhook_url=slack_url, text=_snapshot_slack_text(definition, run))
                raise ExportFailed(str(exc), run=run) from exc
            run.rows = result.events
            if result.no_events:
                _run_finish(run, outcome=ExportRun.Outcome.NO_DATA, error="")
                slack_notify(
                    webhook_url=slack_url,
                    text=_snapshot_slack_text(
                        definition, run, "No events yet (capture route answered 404)."
                    ),
                )
                return run
            run.cursor_after = str(result.location)
            _run_finish(run, outcome=ExportRun.Outcome.SUCCEEDED)
            slack_notify(
                webhook_url=slack_url,
                text=_snapshot_slack_text(definition, run, _metrics_line(result.status)),
            )
            return run
    except FeedBusy as exc:
        _refuse_busy(run, exc)
        raise


def _metrics_line(status: dict[str, Any] | None) -> str:
    metrics = (status or {}).get("metrics") or {}
    shown = {k: v for k, v in metrics.items() if not isinstance(v, dict | list)}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def _snapshot_slack_text(definition, run: ExportRun, extra: str = "") -> str:
    icon = {"succeeded": ":white_check_mark:", "no_data": ":information_source:"}.get(
        run.outcome, ":x:"
    )
    text = (
        f"{icon} {definition.label} export {run.get_outcome_display().lower()}: {run.rows:,} events"
    )
    if run.cursor_after:
        text += f" -> {run.cursor_after}"
    text += f" (run #{run.pk}, {run.trigger})"
    if extra:
        text += f"\n{extra}"
    if run.error:
        text += f"\nError: {run.error}"
    if run.external_url:
        text += f"\n{run.external_url}"
    return text
