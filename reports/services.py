"""Writes of the reporting side: what operators record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from exports.locks import lock_key
from exports.models import ExportRun, Feed
from exports.services import missing_settings
from reports.models import GuardrailFollowUp


def follow_up_record(
    *,
    provider_id: str,
    provider_name: str,
    action: str,
    notes: str | None = None,
    platform_context: dict | None = None,
    conversion_cursor: str | None = None,
    conversion_href: str | None = None,
    created_at: datetime | None = None,
) -> GuardrailFollowUp:
    """Record a guardrail follow-up; ``platform_context`` is ``{id, label, handle, type}``."""
    context = platform_context or {}
    follow_up = GuardrailFollowUp(
        provider_id=provider_id,
        provider_name=provider_name,
        action=action,
        notes=notes or None,
        platform_context_id=context.get("id"),
        platform_context_label=context.get("label"),
        platform_context_handle=context.get("handle"),
        platform_context_type=context.get("type"),
        conversion_cursor=conversion_cursor or None,
        conversion_href=conversion_href or None,
        created_at=created_at or timezone.now(),
    )
    follow_up.full_clean()
    follow_up.save(force_insert=True)
    return follow_up


# --- "Run export now" -----------------------------------------------------------------------

# A queued run no worker picked up within this time is considered abandoned.
QUEUED_RUN_EXPIRY = timedelta(minutes=30)
# A dispatched workflow counts as in flight this long, unless a newer run shows up first.
DISPATCH_IN_FLIGHT = timedelta(minutes=10)


class TriggerFailed(Exception):
    """The workflow API refused or could not be reached; the message is safe to show."""


class NotConfigured(Exception):
    """This site cannot run the export: the message names the settings it lacks."""


def run_now_blocked(feed: str) -> str | None:
    """Why "Run export now" cannot work for ``feed`` here, or None: dispatching the workflow
    needs only the trigger; a run by the site's worker needs the feed's destination."""
    if feed == Feed.GUARDRAIL_FOLLOWUPS and settings.GUARDRAIL_EXPORT_TRIGGER_URL:
        return None
    missing = missing_settings(feed)
    if not missing:
        return None
    return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"


@dataclass(frozen=True)
class RunNowResult:
    run: ExportRun
    created: bool  # False: a run of this feed was already queued, running or dispatched


def _feed_running(feed: str) -> bool:
    """Whether an exporter holds the feed's advisory lock right now (in any process)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(feed)])
        acquired = cursor.fetchone()[0]
        if acquired:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key(feed)])
    return not acquired


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
    Feed(feed)  # ValueError for an unknown feed
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

        if feed == Feed.GUARDRAIL_FOLLOWUPS and settings.GUARDRAIL_EXPORT_TRIGGER_URL:
            external_url = export_trigger_dispatch(
                url=settings.GUARDRAIL_EXPORT_TRIGGER_URL,
                token=settings.GUARDRAIL_EXPORT_TRIGGER_TOKEN,
                ref=settings.GUARDRAIL_EXPORT_TRIGGER_REF,
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
    from reports.tasks import run_export

    run_export.enqueue(run_id)
