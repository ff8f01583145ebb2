"""One run lifecycle for every kind of feed: lock, record, work, finish, tell Slack.

    run_feed(definition, trigger=..., requested_by=..., run=queued_run, sink="s3", work=...)

takes the feed's advisory lock (a second run is refused with ``FeedBusy``, and a queued run
given to it is closed with that reason), marks the ``ExportRun`` running, calls ``work(run)``
(which exports and keeps ``run.rows`` / ``run.cursor_after`` true as it goes), records the
outcome, posts one Slack message for the run, and judges the feed's health as
``monitor_exports`` does (``exports/health.py``: a flip to failing alerts at once, once). A failure is recorded on the run and
raised as ``ExportFailed``; failures of the outside world or the configuration are one line,
anything else (a bug) is logged with its traceback as well.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from exports.cursors import CursorStoreError
from exports.feeds import FeedDefinition
from exports.health import health_check
from exports.http import DeliveryFailed
from exports.locks import FeedBusy, feed_lock
from exports.models import ExportRun
from exports.notifications import slack_post
from exports.s3 import S3Failed
from exports.sinks import SinkError
from exports.status import workflow_url
from smplat.humanize import counted
from smplat.logs import export_run_bind, export_run_finished

logger = logging.getLogger(__name__)

# Failures that are about the outside world or the configuration, reported in one line.
EXPECTED_ERRORS = (
    S3Failed,
    SinkError,
    CursorStoreError,
    DeliveryFailed,
    ImproperlyConfigured,
    ValueError,
    OSError,
)


class ExportFailed(Exception):
    """The run failed; ``run`` is its ExportRun (outcome failed, error set)."""

    def __init__(self, message: str, *, run: ExportRun):
        super().__init__(message)
        self.run = run


@dataclass(frozen=True)
class RunEnd:
    """How ``work`` ended: succeeded or no_data, a line for the summary (metrics...), and a
    notice kept on the run (its ``error`` text, which for a run that did not fail is a note:
    rows held back, malformed lines left out)."""

    outcome: str
    detail: str = ""
    notice: str = ""


def run_feed(
    definition: FeedDefinition,
    *,
    trigger: str,
    requested_by,
    run: ExportRun | None,
    sink: str,
    work: Callable[[ExportRun], RunEnd],
) -> ExportRun:
    try:
        with feed_lock(definition.name):
            run = _begin(definition, trigger=trigger, requested_by=requested_by, run=run, sink=sink)
            try:
                end = work(run)
            except Exception as exc:
                if not isinstance(exc, EXPECTED_ERRORS):
                    logger.exception("export of %s failed", definition.name)
                _finish(run, outcome=ExportRun.Outcome.FAILED, error=str(exc) or type(exc).__name__)
                notify(definition, run)
                check_health(definition)
                raise ExportFailed(str(exc), run=run) from exc
            _finish(run, outcome=end.outcome, error=end.notice)
            notify(definition, run, end.detail)
            check_health(definition)
            return run
    except FeedBusy as exc:
        if run is not None and run.outcome in ExportRun.ACTIVE_OUTCOMES:
            run.started_at = run.started_at or timezone.now()
            _finish(run, outcome=ExportRun.Outcome.FAILED, error=str(exc))
        raise


def _begin(
    definition: FeedDefinition, *, trigger: str, requested_by, run: ExportRun | None, sink: str
) -> ExportRun:
    run = run or ExportRun(feed=definition.name, trigger=trigger, requested_by=requested_by)
    run.outcome = ExportRun.Outcome.RUNNING
    run.started_at = timezone.now()
    run.sink = sink
    run.external_url = ""
    if settings.GITHUB_RUN_ID:  # this run is a GitHub Actions job: link it
        with contextlib.suppress(ImproperlyConfigured):  # the run itself reports it
            run.external_url = workflow_url(definition) or ""
    run.save()
    export_run_bind(run)  # this process's log lines from here on carry the run id
    return run


def _finish(run: ExportRun, *, outcome: str, error: str = "") -> None:
    run.outcome = outcome
    run.error = error
    run.finished_at = timezone.now()
    run.save()
    export_run_finished(run)


ICONS = {"succeeded": ":white_check_mark:", "no_data": ":information_source:"}


def run_summary(definition: FeedDefinition, run: ExportRun, detail: str = "") -> str:
    """The run in a few lines, for Slack: outcome, count, sink, cursor, error, link."""
    text = (
        f"{ICONS.get(run.outcome, ':x:')} {definition.label} export"
        f" {run.get_outcome_display().lower()}: {counted(run.rows, definition.unit)}"
        f" via {run.sink or 'n/a'}, cursor {run.cursor_after or '(none)'}"
        f" (run #{run.pk}, {run.trigger})"
    )
    label = "Error" if run.outcome == ExportRun.Outcome.FAILED else "Note"
    for line in (detail, f"{label}: {run.error}" if run.error else "", run.external_url):
        if line:
            text += f"\n{line}"
    return text


def check_health(definition: FeedDefinition) -> None:
    """Judge the feed as ``monitor_exports`` does, right after the run, so a failing run
    alerts (once per flip) without waiting for the next monitor. Never fails the run."""
    if definition.card is None:
        return
    try:
        health_check(definition)
    except Exception:
        logger.exception("the health check after the %s run failed", definition.name)


def notify(definition: FeedDefinition, run: ExportRun, detail: str = "") -> None:
    """One Slack message for the run, when the feed's ``*_SLACK_WEBHOOK`` is set."""
    try:
        webhook = definition.config.slack_webhook
    except ImproperlyConfigured:
        return  # the run's own error says so
    if webhook:
        slack_post(webhook_url=webhook, text=run_summary(definition, run, detail))
