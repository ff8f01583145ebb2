"""One Slack message per run, when the feed's Slack webhook is configured."""

from __future__ import annotations

import logging

import orjson

from exports.http import DeliveryFailed, RetryPolicy, request_with_retries

logger = logging.getLogger(__name__)


def slack_notify(*, webhook_url: str, text: str) -> bool:
    """Post ``text`` to a Slack incoming webhook. A failed notification is logged, never
    raised: it must not turn an export that delivered its rows into a failed run."""
    if not webhook_url:
        return False
    try:
        request_with_retries(
            "POST",
            webhook_url,
            policy=RetryPolicy(attempts=3),
            headers={"Content-Type": "application/json"},
            data=orjson.dumps({"text": text}),
        ).close()
    except DeliveryFailed as exc:
        logger.warning("Slack notification failed: %s", exc)
        return False
    return True
