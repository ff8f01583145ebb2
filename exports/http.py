"""Outgoing HTTP with retries: webhooks, Slack, the telemetry capture routes, the reporting API.

Retried: network errors, timeouts, 5xx and 429 (honouring ``Retry-After``), with exponential
backoff and jitter. Not retried: any other 4xx (the request itself is wrong; sending it again
cannot help). The backoff base comes from settings so the tests run fast.

``requests`` is imported on the first request, not with this module: an export that sends
nothing over HTTP (file or S3 sink, no Slack) starts about 0.1 s sooner without it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from smplat.redact import redact_url, scrub_url

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The request did not succeed after the last try (or failed in a way not worth retrying)."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 0):
        super().__init__(message)
        self.status = status
        self.attempts = attempts


@dataclass
class RetryPolicy:
    attempts: int = field(default_factory=lambda: settings.EXPORT_RETRY_ATTEMPTS)
    backoff_seconds: float = field(default_factory=lambda: settings.EXPORT_RETRY_BACKOFF_SECONDS)
    max_delay_seconds: float = field(
        default_factory=lambda: settings.EXPORT_RETRY_MAX_DELAY_SECONDS
    )
    timeout_seconds: float = field(default_factory=lambda: settings.EXPORT_HTTP_TIMEOUT_SECONDS)
    sleep: Callable[[float], None] = time.sleep

    def backoff(self, attempt: int) -> float:
        """Exponential with "equal jitter": half fixed, half random, so retries spread out."""
        ceiling = min(self.max_delay_seconds, self.backoff_seconds * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())


def _describe(response: requests.Response, url: str) -> str:
    body = response.text[:200].strip() if response.content else ""
    text = f"{response.status_code} {response.reason}"
    return f"{text}: {scrub_url(body, url)}" if body else text


def request_with_retries(
    method: str,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    headers: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
    data: bytes | None = None,
    accept_statuses: tuple[int, ...] = (),
    stream: bool = False,
    session: requests.Session | None = None,
    on_attempt: Callable[[int, int | None, str, float], None] | None = None,
) -> requests.Response:
    """Send one request until it succeeds (2xx, or a status in ``accept_statuses``).

    ``headers`` may be a callable so each attempt gets fresh ones (a webhook signs every
    attempt with its own timestamp). Raises DeliveryFailed with a one-line reason.
    ``on_attempt(attempt, status, error, seconds)`` hears of every try (a webhook run records
    them for its run page); ``status`` is None when no HTTP answer came.
    """
    import requests

    policy = policy or RetryPolicy()
    where = redact_url(url)
    http = session or requests
    reason = "no attempt made"
    status = None
    for attempt in range(1, policy.attempts + 1):
        attempt_headers = headers() if callable(headers) else dict(headers or {})
        wait = None
        began = time.monotonic()
        try:
            response = http.request(
                method,
                url,
                headers=attempt_headers,
                data=data,
                timeout=policy.timeout_seconds,
                stream=stream,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            reason = f"{type(exc).__name__}: {scrub_url(str(exc), url)}"
            status = None
            if on_attempt:
                on_attempt(attempt, None, reason, time.monotonic() - began)
        else:
            status = response.status_code
            if 200 <= status < 300 or status in accept_statuses:
                if on_attempt:
                    on_attempt(attempt, status, "", time.monotonic() - began)
                return response
            reason = _describe(response, url)
            if on_attempt:
                on_attempt(attempt, status, reason, time.monotonic() - began)
            response.close()
            if status == 429 or status >= 500:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
            else:
                raise DeliveryFailed(
                    f"{method} {where} answered {reason} (not retried)",
                    status=status,
                    attempts=attempt,
                )
        if attempt == policy.attempts:
            break
        delay = policy.backoff(attempt) if wait is None else min(wait, policy.max_delay_seconds)
        logger.warning(
            "%s %s failed (%s), attempt %d of %d; retrying in %.2fs",
            method,
            where,
            reason,
            attempt,
            policy.attempts,
            delay,
        )
        policy.sleep(delay)
    raise DeliveryFailed(
        f"{method} {where} failed after {policy.attempts} attempts: {reason}",
        status=status,
        attempts=policy.attempts,
    )
