"""Sending a health flip's one Slack message (exports/health.py records the flip first).

``monitor_exports`` and the end of a run send it there and then. A web request that happens
to close an abandoned run (a page, a card's poll, a public badge, a /metrics scrape) must not
wait on Slack, so it queues ``flip_alert_send`` for the task worker (``manage.py
db_worker``), which sends the text rendered when the flip was recorded.
"""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from exports.models import FeedFlip
from exports.notifications import SlackOutcome, slack_post

QUEUED = "queued for the task worker (manage.py db_worker)"


def alert_webhook() -> tuple[str, str]:
    """The webhook of flip alerts and the name of the variable it came from."""
    if settings.EXPORT_ALERT_WEBHOOK_URL:
        return settings.EXPORT_ALERT_WEBHOOK_URL, "EXPORT_ALERT_WEBHOOK_URL"
    return settings.MONITOR_ALERT_WEBHOOK_URL, "MONITOR_ALERT_WEBHOOK_URL"


def alert_send(text: str, *, flip_id: int | None = None) -> SlackOutcome:
    """Post ``text`` once (never re-posted after a timeout: exports/notifications.py) and
    note on the flip what became of it."""
    url, name = alert_webhook()
    if url:
        outcome = slack_post(
            webhook_url=url, text=text, timeout=settings.MONITOR_ALERT_TIMEOUT_SECONDS
        )
        if outcome.delivered:
            outcome = SlackOutcome(delivered=True, detail=f"alert sent to {name}")
    else:
        outcome = SlackOutcome(
            delivered=False,
            detail="EXPORT_ALERT_WEBHOOK_URL and MONITOR_ALERT_WEBHOOK_URL are not set: no alert sent",
        )
    if flip_id is not None:
        FeedFlip.objects.filter(pk=flip_id).update(alert=outcome.detail)
    return outcome


@task()
def flip_alert_send(text: str, flip_id: int | None = None) -> str:
    """The worker's half of a flip recorded during a web request."""
    return alert_send(text, flip_id=flip_id).detail
