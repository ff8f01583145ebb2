"""The one Slack sender of the site: export runs, export health flips and the telemetry
monitors all post through ``slack_post``.

Two rules hold for every message:
- Never posted twice. A retry happens only when Slack cannot have posted the message: a
  connection that never opened, 429 and 503 (honouring ``Retry-After``). A read timeout or
  another 5xx may come after the message went out, so it is reported, not re-sent.
- Never rendered as markup it did not mean. ``&``, ``<`` and ``>`` are escaped as Slack asks
  (https://api.slack.com/reference/surfaces/formatting#escaping), so text that came from
  elsewhere (a receiver's error body, a provider name) cannot become ``<!channel>`` or a
  link. The messages use no ``<...>`` markup of their own.

A failed post is logged and returned, never raised: it must not turn an export that
delivered its rows into a failed run. Errors name the webhook's host, never its path (the
secret part of a Slack webhook URL).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

from smplat.redact import scrub_url

logger = logging.getLogger(__name__)

# Slack answers 429 with Retry-After and, rarely, 503; a retry or two rides those out.
SLACK_RETRIES = 2
SLACK_BACKOFF_SECONDS = 0.5


@dataclass(frozen=True)
class SlackOutcome:
    delivered: bool
    detail: str


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_post(*, webhook_url: str, text: str, timeout: float | None = None) -> SlackOutcome:
    """POST ``{"text": text}`` (escaped) to a Slack incoming webhook, at most once."""
    if not webhook_url:
        return SlackOutcome(delivered=False, detail="no Slack webhook is configured")
    import requests  # on use: most export runs post nothing
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=SLACK_RETRIES,
        connect=SLACK_RETRIES,
        read=0,
        other=0,
        status=SLACK_RETRIES,
        backoff_factor=SLACK_BACKOFF_SECONDS,
        status_forcelist=(429, 503),
        allowed_methods=frozenset({"POST"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    timeout = timeout or settings.EXPORT_HTTP_TIMEOUT_SECONDS
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            response = session.post(
                webhook_url,
                json={"text": slack_escape(text)},
                timeout=(timeout, timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            reason = f"{type(exc).__name__}: {scrub_url(str(exc), webhook_url)}"
            logger.warning("Slack message not delivered: %s", reason)
            return SlackOutcome(delivered=False, detail=f"not delivered: {reason}")
    if response.status_code >= 300:
        logger.warning("Slack message refused: HTTP %s", response.status_code)
        return SlackOutcome(
            delivered=False, detail=f"refused by the webhook: HTTP {response.status_code}"
        )
    return SlackOutcome(delivered=True, detail="sent")
