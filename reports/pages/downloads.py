"""The download proxies: stream a feed's latest artifact.

The target is never chosen by the client. First choice is what the feed's newest run of this
site wrote, as the run recorded it (``ExportRun.artifacts``): all its S3 objects in row order,
or the byte range it appended to its file when that lies under ``EXPORT_FILES_ROOT``. Else (runs elsewhere, in GitHub
Actions) the ``downloadUrl`` of the feed's configured status payload, fetched over s3, or over
http(s) under the address rules of ``exports.safe_http`` (public addresses over https; the S3
endpoint and allow-listed origins besides), with a timeout, a size cap, and redirects
followed only within the same origin. Every refusal and upstream failure gets one message
(``UNAVAILABLE``), so the proxy cannot be used to tell an open port from a closed one; the
reason goes to the log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from exports import registry
from exports.models import ExportRun
from exports.s3 import parse_s3_uri, s3_client
from exports.safe_http import Refused, guarded_get
from exports.sinks.file import parse_file_artifact
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
    run_id: int | None = None  # the run that wrote it, when this site recorded one


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


def latest_artifact_run(feed: str) -> ExportRun | None:
    """The feed's newest finished run that left something to download."""
    return (
        ExportRun.objects.filter(feed=feed, outcome=ExportRun.Outcome.SUCCEEDED)
        .exclude(artifacts=[])
        .order_by("-created_at", "-id")
        .first()
    )


def file_under_root(path: str) -> Path:
    """``path`` resolved, if it lies under ``EXPORT_FILES_ROOT`` (symlinks resolved too)."""
    if not settings.EXPORT_FILES_ROOT:
        raise DownloadUnavailable(
            "File exports are not downloadable here: set EXPORT_FILES_ROOT to their folder."
        )
    root = Path(settings.EXPORT_FILES_ROOT).resolve()
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(root):
        raise DownloadUnavailable("The run's file is outside EXPORT_FILES_ROOT; not served.")
    return resolved


def _open_file(artifact: str, limit: int) -> Download:
    """The run's lines of its file: the byte range it appended (the whole file for runs
    recorded before ranges), if the file still holds them."""
    path, byte_range = parse_file_artifact(artifact)
    resolved = file_under_root(path)
    try:
        file = open(resolved, "rb")  # noqa: SIM115 - closed by the generator
    except OSError as exc:
        raise DownloadUnavailable(f"The run's file cannot be read ({exc.strerror}).") from exc
    try:
        size = os.fstat(file.fileno()).st_size
        start, end = byte_range or (0, size)
        whole = end <= size and _line_bounded(file, start, end)
    except OSError as exc:
        file.close()
        raise DownloadUnavailable(f"The run's file cannot be read ({exc.strerror}).") from exc
    if not whole:
        file.close()  # truncated or replaced since the run: its lines are not there now
        raise DownloadUnavailable("The run's file no longer holds its rows (rotated or cut).")
    length = end - start
    if length > limit:
        file.close()
        raise DownloadFailed(f"the artifact is larger than {limit} bytes")

    def chunks() -> Iterator[bytes]:
        with file:
            file.seek(start)
            left = length
            while left and (chunk := file.read(min(CHUNK, left))):
                left -= len(chunk)
                yield chunk

    return Download(_capped(chunks(), limit), length, "application/x-ndjson")


def _line_bounded(file, start: int, end: int) -> bool:
    """Whether ``start`` begins a line and ``end`` ends one (a quick check that the range is
    still made of whole lines)."""
    if end <= start:
        return False
    if start > 0:
        file.seek(start - 1)
        if file.read(1) != b"\n":
            return False
    file.seek(end - 1)
    return file.read(1) == b"\n"


def _open_s3_objects(uris: list[str], limit: int) -> Download:
    """Every object of the run, one after the other; each opened only when the previous one
    is sent, so a run of many objects costs one open body at a time."""
    try:
        locations = [parse_s3_uri(uri) for uri in uris]
        client = s3_client()
        # HEAD each first: a missing object is a clear refusal, not a download cut short.
        length = sum(
            client.head_object(Bucket=location.bucket, Key=location.key)["ContentLength"]
            for location in locations
        )
    except ValueError as exc:
        raise DownloadFailed(str(exc)) from exc
    except (ClientError, BotoCoreError) as exc:
        raise DownloadFailed(
            f"the run's objects could not be read from S3 ({type(exc).__name__})"
        ) from exc
    if length > limit:
        raise DownloadFailed(f"the artifact is larger than {limit} bytes")

    def chunks() -> Iterator[bytes]:
        for location in locations:
            body = client.get_object(Bucket=location.bucket, Key=location.key)["Body"]
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

    return Download(_capped(chunks(), limit), length, "application/x-ndjson")


def _open_run_artifact(run: ExportRun, limit: int) -> Download:
    if all(uri.startswith("s3://") for uri in run.artifacts):
        download = _open_s3_objects(run.artifacts, limit)
    elif len(run.artifacts) == 1:
        download = _open_file(run.artifacts[0], limit)
    else:
        raise DownloadUnavailable("The run's artifacts cannot be served.")
    download.run_id = run.pk
    return download


def latest_artifact(feed: str) -> Download:
    """Open the feed's latest artifact for streaming, or raise a clear reason why not."""
    run = latest_artifact_run(feed)
    if run is not None:
        return _open_run_artifact(run, settings.EXPORT_PROXY_MAX_BYTES)
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
