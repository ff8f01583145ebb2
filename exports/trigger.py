"""The trigger behind "Run export now": dispatch the feed's workflow, or queue a run for the
site's worker (``exports/tasks.py``). Pages call ``export_run_now``; the button is offered
only where ``run_now_blocked`` finds nothing missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from exports import registry
from exports.locks import feed_lock_held, lock_key
from exports.models import ExportRun

# A queued run no worker picked up within this time is considered abandoned.
QUEUED_RUN_EXPIRY = ExportRun.QUEUED_EXPIRY
# A dispatched workflow counts as in flight this long, unless a newer run shows up first.
DISPATCH_IN_FLIGHT = timedelta(minutes=10)


class TriggerFailed(Exception):
    """The workflow API refused or could not be reached; the message is safe to show."""


class NotConfigured(Exception):
    """This site cannot run the export: the message names the settings it lacks."""


def run_now_blocked(feed: str) -> str | None:
    """Why "Run export now" cannot work for ``feed`` here, or None: dispatching the workflow
    needs only the trigger; a run by the site's worker needs the feed's destination."""
    definition = registry.feed(feed)
    if definition.config.dispatches:
        return None
    missing = definition.missing_settings()
    if not missing:
        return None
    return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"


@dataclass(frozen=True)
class RunNowResult:
    run: ExportRun
    created: bool  # False: a run of this feed was already queued, running or dispatched


def _feed_running(feed: str) -> bool:
    """Whether an exporter holds the feed's advisory lock right now (in any process)."""
    return feed_lock_held(feed)


def _in_flight(run: ExportRun, now) -> bool:
    if run.outcome == ExportRun.Outcome.QUEUED:
        return now - run.created_at < QUEUED_RUN_EXPIRY
    if run.outcome == ExportRun.Outcome.RUNNING:
        return _feed_running(run.feed)
    if run.outcome == ExportRun.Outcome.DISPATCHED:
        return now - run.created_at < DISPATCH_IN_FLIGHT
    return False


def _close_abandoned(run: ExportRun, now) -> None:
    reason = {
        ExportRun.Outcome.QUEUED: "No worker picked this run up; is `manage.py db_worker` running?",
        ExportRun.Outcome.RUNNING: "The exporter stopped without finishing (killed or crashed).",
    }.get(run.outcome)
    if reason:
        run.outcome = ExportRun.Outcome.FAILED
        run.error = reason
        run.started_at = run.started_at or run.created_at
        run.finished_at = now
        run.save(update_fields=["outcome", "error", "started_at", "finished_at"])


def export_trigger_dispatch(*, url: str, token: str, ref: str) -> str:
    """POST GitHub's workflow_dispatch body; return the run's page when the API names it."""
    import requests  # on use: only a dispatch needs it

    try:
        response = requests.post(
            url,
            json={"ref": ref, "inputs": {}, "return_run_details": True},
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
            timeout=10,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise TriggerFailed(
            f"the workflow API could not be reached ({type(exc).__name__})"
        ) from exc
    if response.status_code not in (200, 201, 204):
        raise TriggerFailed(f"the workflow API answered {response.status_code} {response.reason}")
    if response.status_code == 204 or not response.content:
        return ""
    try:
        details = response.json()
    except ValueError:
        return ""
    html_url = details.get("html_url") if isinstance(details, dict) else None
    return html_url if isinstance(html_url, str) and html_url.startswith("https://") else ""


def export_run_now(*, feed: str, requested_by) -> RunNowResult:
    """Start one export of ``feed`` now: dispatch its workflow, or queue it for the worker.

    Double clicks (and two operators at once) start one run: the check and the insert happen
    under a transaction-level advisory lock, and a run already in flight is returned instead.
    """
    config = registry.feed(feed).config  # KeyError for an unknown feed
    blocked = run_now_blocked(feed)
    if blocked:
        raise NotConfigured(blocked)
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(f"run-now:{feed}")])
        latest = ExportRun.objects.filter(feed=feed).order_by("-created_at", "-id").first()
        if latest is not None and latest.outcome in (*ExportRun.ACTIVE_OUTCOMES, "dispatched"):
            if _in_flight(latest, now):
                return RunNowResult(run=latest, created=False)
            _close_abandoned(latest, now)

        if config.dispatches:
            external_url = export_trigger_dispatch(
                url=config.trigger_url, token=config.trigger_token, ref=config.trigger_ref
            )
            run = ExportRun.objects.create(
                feed=feed,
                trigger=ExportRun.Trigger.MANUAL,
                outcome=ExportRun.Outcome.DISPATCHED,
                requested_by=requested_by,
                started_at=now,
                finished_at=now,
                sink="workflow",
                external_url=external_url,
            )
            return RunNowResult(run=run, created=True)

        run = ExportRun.objects.create(
            feed=feed, trigger=ExportRun.Trigger.MANUAL, requested_by=requested_by
        )
        # Enqueued only once this transaction commits: the worker must see the run.
        transaction.on_commit(lambda: _enqueue(run.pk))
    return RunNowResult(run=run, created=True)


def _enqueue(run_id: int) -> None:
    from exports.tasks import run_export  # imports django-tasks' backend: on use

    run_export.enqueue(run_id)
