"""The download proxies: stream a feed's latest artifact (the status payload's downloadUrl).

The target is never chosen by the client: it is the ``downloadUrl`` of the feed's configured
status payload, fetched over s3, or over http(s) under the address rules of
``exports.safe_http`` (public addresses over https; the S3 endpoint and allow-listed origins
besides), with a timeout, a size cap, and redirects followed only within the same origin.
Every refusal and upstream failure gets one message (``UNAVAILABLE``), so the proxy cannot
be used to tell an open port from a closed one; the reason goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import requests
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from exports import registry
from exports.s3 import parse_s3_uri, s3_client
from exports.safe_http import Refused, guarded_get
from exports.status import StatusUnavailable, feed_status
from smplat.redact import redact_url

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_REDIRECTS = 3
# The one answer to a refused URL, an unreachable host, a TLS failure and a non-200 alike.
UNAVAILABLE = "the artifact could not be fetched from the status payload's downloadUrl"


class DownloadUnavailable(Exception):
    """Nothing to download (no status, no downloadUrl); the message is safe to show."""


class DownloadFailed(Exception):
    """The artifact's host refused, failed or broke a limit; the message is safe to show."""


@dataclass
class Download:
    chunks: Iterator[bytes]
    length: int | None
    content_type: str


def _capped(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    sent = 0
    for chunk in chunks:
        sent += len(chunk)
        if sent > limit:
            # Headers are gone already: breaking the stream is the only honest signal left
            # (the client sees an incomplete download rather than a silently cut file).
            raise DownloadFailed(f"the artifact is larger than {limit} bytes")
        yield chunk


def _open_http(url: str, limit: int) -> Download:
    try:
        response = guarded_get(
            url, timeout=settings.EXPORT_PROXY_TIMEOUT_SECONDS, max_redirects=MAX_REDIRECTS
        )
    except (Refused, requests.RequestException) as exc:
        reason = str(exc) if isinstance(exc, Refused) else type(exc).__name__
        logger.warning("download proxy: %s: %s", redact_url(url), reason)
        raise DownloadFailed(UNAVAILABLE) from exc
    if response.status_code != 200:
        response.close()
        logger.warning("download proxy: %s answered %s", redact_url(url), response.status_code)
        raise DownloadFailed(UNAVAILABLE)
    length = response.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if length is not None and length > limit:
        response.close()
        raise DownloadFailed(f"the artifact is larger than {limit} bytes")

    def chunks() -> Iterator[bytes]:
        with response:
            yield from response.iter_content(CHUNK)

    return Download(_capped(chunks(), limit), length, "application/x-ndjson")


def _open_s3(uri: str, limit: int) -> Download:
    try:
        location = parse_s3_uri(uri)
        response = s3_client().get_object(Bucket=location.bucket, Key=location.key)
    except ValueError as exc:
        raise DownloadFailed(str(exc)) from exc
    except (ClientError, BotoCoreError) as exc:
        raise DownloadFailed(
            f"the artifact could not be read from S3 ({type(exc).__name__})"
        ) from exc
    length = response.get("ContentLength")
    if length is not None and length > limit:
        response["Body"].close()
        raise DownloadFailed(f"the artifact is larger than {limit} bytes")
    body = response["Body"]
    return Download(_capped(body.iter_chunks(CHUNK), limit), length, "application/x-ndjson")


def latest_artifact(feed: str) -> Download:
    """Open the feed's latest artifact for streaming, or raise a clear reason why not."""
    try:
        status = feed_status(
            registry.feed(feed), timeout=settings.EXPORT_CARD_STATUS_TIMEOUT_SECONDS
        )
    except StatusUnavailable as exc:
        raise DownloadUnavailable(f"No export status to download from: {exc}.") from exc
    url = status.get("downloadUrl")
    if not isinstance(url, str) or not url:
        raise DownloadUnavailable("The export status has no downloadUrl yet.")
    limit = settings.EXPORT_PROXY_MAX_BYTES
    if url.startswith("s3://"):
        return _open_s3(url, limit)
    return _open_http(url, limit)
