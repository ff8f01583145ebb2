"""Telemetry snapshot feeds: download a capture route's NDJSON window, land it in S3 under
the runbook's prefix, compute the metrics the cards compare, write the status JSON (SPEC §5).

The download is streamed to a temporary file while the metrics are counted line by line, so
memory stays flat whatever the window's size; the upload is a managed (multipart) transfer.

Only lines that are JSON objects are events: they alone are counted, measured and uploaded.
Other lines are left out of the object, so that it loads as NDJSON (a warehouse's NDJSON
reader or ``jq`` stops at the first bad line) and its line count is the status payload's
``events``; how many were left out, and where, is the run's notice (``malformedLines``).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from django.utils import timezone

from exports.feeds import SnapshotFeed
from exports.http import request_with_retries
from exports.s3 import S3Location, presigned_url, s3_client, s3_errors
from exports.status import check_status_destination, status_write, workflow_url
from smplat.cursors import format_timestamp

logger = logging.getLogger(__name__)


class SnapshotConfigurationError(ValueError):
    pass


@dataclass
class SnapshotResult:
    events: int = 0
    location: S3Location | None = None
    status: dict[str, Any] | None = None
    status_uri: str = ""
    malformed: int = 0
    # Line numbers (1-based, in the download) of the first malformed lines; never their text,
    # which could carry anything the capture route was sent.
    malformed_at: list[int] = field(default_factory=list)

    @property
    def no_events(self) -> bool:
        return self.location is None

    @property
    def notice(self) -> str:
        if not self.malformed:
            return ""
        where = ", ".join(map(str, self.malformed_at))
        more = ", ..." if self.malformed > len(self.malformed_at) else ""
        return (
            f"{self.malformed:,} malformed line(s) (not a JSON object) left out of the"
            f" snapshot: line {where}{more} of the download"
        )


MALFORMED_LINES_SHOWN = 10


def _event(line: bytes) -> dict[str, Any] | None:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def object_location(feed: SnapshotFeed, *, bucket: str, prefix: str, at: datetime) -> S3Location:
    """``s3://<bucket>/<prefix>/<folder>/YYYY/MM/DD/<timestamp>.ndjson`` (the runbooks)."""
    parts = [prefix.strip("/"), feed.folder, f"{at:%Y/%m/%d}", f"{at:%Y%m%dT%H%M%S%fZ}.ndjson"]
    return S3Location(bucket, "/".join(part for part in parts if part))


def snapshot_export(
    feed: SnapshotFeed,
    *,
    url: str,
    bucket: str,
    prefix: str = "",
    status_uri: str = "",
    api_key: str = "",
) -> SnapshotResult:
    names = feed.setting_names()
    if not url:
        raise SnapshotConfigurationError(f"{names['url']} is not set")
    if not bucket:
        raise SnapshotConfigurationError(f"{names['bucket']} is not set")
    if status_uri:
        try:
            check_status_destination(status_uri)
        except ValueError as exc:
            raise SnapshotConfigurationError(f"{names['status_s3_uri']}: {exc}") from exc
    # Prefer NDJSON but accept anything: the route answers NDJSON whatever it negotiates.
    headers = {"Accept": "application/x-ndjson, */*;q=0.5"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    response = request_with_retries(
        "GET", url, headers=headers, stream=True, accept_statuses=(404,)
    )
    result = SnapshotResult(status_uri=status_uri)
    with response:
        if response.status_code == 404:
            return result  # the capture route has no events yet
        metrics = feed.metrics()
        client = s3_client()
        with tempfile.TemporaryFile() as spool:
            lines = 0
            for number, line in enumerate(response.iter_lines(chunk_size=64 * 1024), 1):
                if not line.strip():
                    continue
                lines += 1
                event = _event(line)
                if event is None:
                    result.malformed += 1
                    if len(result.malformed_at) < MALFORMED_LINES_SHOWN:
                        result.malformed_at.append(number)
                    continue
                spool.write(line + b"\n")
                result.events += 1
                metrics.add(event)
            if result.malformed and not result.events:
                # Not one event: rather a wrong URL (an HTML page, a proxy's login form) than
                # a window of bad lines. Nothing is uploaded and the status is left as it was.
                raise ValueError(
                    f"{names['url']} answered {lines:,} line(s) and none is a JSON"
                    " event: is it the capture route's export URL?"
                )
            if result.malformed:
                logger.warning("%s: %s", feed.name, result.notice)
            announced = response.headers.get(feed.count_header)
            if announced and announced.isdigit() and int(announced) != lines:
                logger.warning(
                    "%s: %s says %s events, the body had %d lines",
                    feed.name,
                    feed.count_header,
                    announced,
                    lines,
                )
            synced_at = timezone.now()
            location = object_location(feed, bucket=bucket, prefix=prefix, at=synced_at)
            spool.seek(0)
            with s3_errors(f"uploading to {location}"):
                client.upload_fileobj(
                    spool,
                    location.bucket,
                    location.key,
                    ExtraArgs={"ContentType": "application/x-ndjson"},
                )
    result.location = location
    with s3_errors(f"presigning {location}"):
        download_url = presigned_url(location, client=client)
    result.status = {
        "syncedAt": format_timestamp(synced_at),
        "events": result.events,
        "downloadUrl": download_url,
        "workflowUrl": workflow_url(feed),
        "metrics": metrics.result(),
        "s3Uri": str(location),
        "malformedLines": result.malformed,
    }
    if status_uri:
        status_write(status_uri, result.status)
    return result
