"""POSTs batches to an HTTP endpoint following the Standard Webhooks convention.

``webhook-id`` is the batch's idempotency key, the same for every retry and for a batch
re-sent after a crash, so a receiver can drop copies; ``webhook-timestamp`` is the attempt's
Unix time; ``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` when
a signing secret is configured: ``whsec_<base64>``, decoded as the reference standardwebhooks
libraries decode it, so a receiver verifies with the same string (settings refuse other forms).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from exports.feeds import Batch
from exports.http import DeliveryFailed, RetryPolicy, request_with_retries
from exports.sinks.base import SinkError

if TYPE_CHECKING:
    import requests


def signing_key(secret: str) -> bytes:
    if not secret.startswith("whsec_"):
        raise ValueError("a webhook signing secret is whsec_<base64>")
    encoded = secret.removeprefix("whsec_")
    # Padding optional, as in the reference libraries.
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookSink:
    name = "webhook"
    # One POST a batch: a body of a few hundred KB, which receivers accept.
    default_batch_size = 500

    def __init__(
        self,
        url: str,
        *,
        envelope: str,
        secret: str = "",
        policy: RetryPolicy | None = None,
        on_attempt: Callable[..., None] | None = None,
    ):
        self.url = url
        # on_attempt(batch=, attempt=, status=, error=, seconds=, webhook_id=) for each try.
        self.on_attempt = on_attempt
        self.batches_sent = 0
        self.envelope = envelope
        self.secret = secret
        self.policy = policy or RetryPolicy()
        self._session: requests.Session | None = None

    def open(self) -> None:
        import requests  # on use: see exports/http.py

        self._session = requests.Session()

    def send(self, batch: Batch) -> None:
        body = batch.envelope(self.envelope)

        def headers() -> dict[str, str]:
            timestamp = int(time.time())
            values = {
                "Content-Type": "application/json",
                "webhook-id": batch.key,
                "webhook-timestamp": str(timestamp),
            }
            if self.secret:
                values["webhook-signature"] = sign(self.secret, batch.key, timestamp, body)
            return values

        number = self.batches_sent + 1

        def heard(attempt: int, status: int | None, error: str, seconds: float) -> None:
            if self.on_attempt:
                self.on_attempt(
                    batch=number,
                    attempt=attempt,
                    status=status,
                    error=error,
                    seconds=seconds,
                    webhook_id=batch.key,
                )

        try:
            request_with_retries(
                "POST",
                self.url,
                policy=self.policy,
                headers=headers,
                data=body,
                session=self._session,
                on_attempt=heard,
            ).close()
        except DeliveryFailed as exc:
            raise SinkError(f"webhook delivery failed: {exc}") from exc
        self.batches_sent = number

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
