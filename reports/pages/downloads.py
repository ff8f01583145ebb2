"""The download proxies: stream a feed's latest artifact (the status payload's downloadUrl).

The target is never chosen by the client: it is the ``downloadUrl`` of the feed's configured
status payload, fetched only over https or s3 (http only for the S3-compatible endpoint or
an allow-listed host, see ``exports.status.download_url_allowed``), with a timeout, a size
cap, and redirects followed only within the same host.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from exports import registry
from exports.s3 import parse_s3_uri, s3_client
from exports.status import StatusUnavailable, download_url_allowed, feed_status

CHUNK = 64 * 1024
MAX_REDIRECTS = 3


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
    timeout = settings.EXPORT_PROXY_TIMEOUT_SECONDS
    host = urlsplit(url).hostname
    for _ in range(MAX_REDIRECTS + 1):
        if not download_url_allowed(url):
            raise DownloadFailed("the download URL is not on an allowed host or scheme")
        try:
            response = requests.get(url, stream=True, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise DownloadFailed(
                f"the artifact host is unreachable ({type(exc).__name__})"
            ) from exc
        if response.is_redirect:
            target = urljoin(url, response.headers.get("Location", ""))
            response.close()
            if urlsplit(target).hostname != host:
                raise DownloadFailed("the artifact host redirected to another host")
            url = target
            continue
        if response.status_code != 200:
            response.close()
            raise DownloadFailed(f"the artifact host answered {response.status_code}")
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if length is not None and length > limit:
            response.close()
            raise DownloadFailed(f"the artifact is larger than {limit} bytes")

        def chunks(response=response) -> Iterator[bytes]:
            with response:
                yield from response.iter_content(CHUNK)

        return Download(_capped(chunks(), limit), length, "application/x-ndjson")
    raise DownloadFailed("too many redirects")


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
