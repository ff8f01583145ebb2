"""Status payloads (SPEC §5): written by the exporters after each run, read by the site's
export-health cards. A status location is an ``s3://`` URI, an ``https://`` URL (``http://``
only for the hosts a download may use, see ``download_url_allowed``) or a local file path;
http(s) is fetched under the address rules of ``exports.safe_http``.

Reading::

    from exports.registry import feed
    from exports.status import StatusUnavailable, feed_status

    try:
        payload = feed_status(feed("quick_order_telemetry"))  # the configured *_STATUS_URL
    except StatusUnavailable as exc:
        ...  # str(exc) is a one-line reason fit for a card
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from exports.files import replace_atomically
from exports.s3 import S3Location, parse_s3_uri, s3_client, s3_errors

if TYPE_CHECKING:
    from exports.feeds import FeedDefinition

# The largest status payload a reader accepts: they are a few hundred bytes.
MAX_STATUS_BYTES = 256 * 1024


class StatusUnavailable(Exception):
    """The status payload could not be read; the message is a one-line reason."""


def workflow_url(definition: FeedDefinition) -> str | None:
    """The feed's ``*_WORKFLOW_URL`` override, else this GitHub Actions run, else None."""
    override = definition.config.workflow_url
    if override:
        return override
    if settings.GITHUB_SERVER_URL and settings.GITHUB_REPOSITORY and settings.GITHUB_RUN_ID:
        return (
            f"{settings.GITHUB_SERVER_URL.rstrip('/')}/{settings.GITHUB_REPOSITORY}"
            f"/actions/runs/{settings.GITHUB_RUN_ID}"
        )
    return None


def download_url_allowed(url: str) -> bool:
    """SPEC §5: https and s3 always; http only to the S3-compatible endpoint
    (``AWS_ENDPOINT_URL``) or an ``EXPORT_PROXY_ALLOWED_HOSTS`` entry, scheme, host and port
    alike. Where an http(s) URL may connect is checked when it is fetched
    (``exports.safe_http``)."""
    if urlsplit(url).scheme == "s3":
        return bool(urlsplit(url).netloc)
    from exports.safe_http import url_allowed  # on use: it imports requests

    return url_allowed(url)


def feed_status(definition: FeedDefinition, *, timeout: float | None = None) -> dict[str, Any]:
    """The feed's status payload, read from its ``*_STATUS_URL`` (else ``*_STATUS_S3_URI``)."""
    url = definition.config.status_location
    if not url:
        raise StatusUnavailable(f"no status location is configured for {definition.name}")
    return status_read(url, timeout=timeout)


def status_read(url: str, *, timeout: float | None = None) -> dict[str, Any]:
    """Fetch and parse a status payload with a short timeout; StatusUnavailable otherwise."""
    timeout = timeout or settings.EXPORT_STATUS_TIMEOUT_SECONDS
    scheme = urlsplit(url).scheme
    if scheme == "s3":
        raw = _read_s3(url)
    elif scheme in {"http", "https"}:
        if not download_url_allowed(url):
            raise StatusUnavailable(f"refusing to fetch {scheme}:// status from this host")
        raw = _read_http(url, timeout)
    elif scheme in {"", "file"}:
        raw = _read_file(url.removeprefix("file://"))
    else:
        raise StatusUnavailable(f"unsupported status location scheme {scheme!r}")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise StatusUnavailable(f"status payload is not JSON: {exc}") from exc
    except RecursionError as exc:  # nested deeper than the parser goes
        raise StatusUnavailable("status payload is not JSON: nested too deeply") from exc
    if not isinstance(payload, dict):
        raise StatusUnavailable("status payload is not a JSON object")
    return payload


def _read_http(url: str, timeout: float) -> bytes:
    # On use: the exporters import this module and never read over HTTP.
    import requests

    from exports.safe_http import Refused, guarded_get

    try:
        with guarded_get(url, timeout=timeout) as response:
            if response.status_code != 200:
                raise StatusUnavailable(
                    f"status URL answered {response.status_code} {response.reason}"
                )
            raw = response.raw.read(MAX_STATUS_BYTES + 1, decode_content=True)
    except Refused as exc:
        raise StatusUnavailable(
            "refusing to fetch the status URL: its host is not a public address,"
            " nor the S3 endpoint or an EXPORT_PROXY_ALLOWED_HOSTS entry"
        ) from exc
    except requests.RequestException as exc:
        raise StatusUnavailable(f"status URL unreachable: {type(exc).__name__}") from exc
    if len(raw) > MAX_STATUS_BYTES:
        raise StatusUnavailable("status payload is too large")
    return raw


def _read_s3(uri: str) -> bytes:
    try:
        location = parse_s3_uri(uri)
        response = s3_client().get_object(Bucket=location.bucket, Key=location.key)
        if response.get("ContentLength", 0) > MAX_STATUS_BYTES:
            raise StatusUnavailable("status payload is too large")
        return response["Body"].read()
    except ValueError as exc:
        raise StatusUnavailable(str(exc)) from exc
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise StatusUnavailable(f"status object unavailable ({code})") from exc
    except BotoCoreError as exc:
        raise StatusUnavailable(f"S3 unreachable: {exc}") from exc


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_STATUS_BYTES + 1)
    except OSError as exc:
        raise StatusUnavailable(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_STATUS_BYTES:
        raise StatusUnavailable("status payload is too large")
    return raw


def check_status_destination(destination: str) -> S3Location | None:
    """Where a status payload goes: the S3 object of an ``s3://bucket/key`` URI, or None for
    a local path. ValueError for anything else: an https:// URL is where the site reads a
    payload (``*_STATUS_URL``), not where a run can write one (``*_STATUS_S3_URI``), and must
    not become a folder named ``https:``."""
    scheme = urlsplit(destination).scheme
    if scheme == "s3":
        location = parse_s3_uri(destination)
        if not location.key or location.key.endswith("/"):
            raise ValueError(f"{destination!r} names no object: use s3://bucket/path/status.json")
        return location
    if scheme not in {"", "file"}:
        raise ValueError(
            f"cannot write a status payload to {scheme}://; use s3://bucket/key or a local path"
        )
    return None


def status_write(destination: str, payload: dict[str, Any]) -> None:
    """Write a payload to an ``s3://`` URI (one PUT) or a local path (atomic replace)."""
    location = check_status_destination(destination)
    body = json.dumps(payload, indent=2).encode() + b"\n"
    if location is not None:
        with s3_errors(f"writing the status to {location}"):
            s3_client().put_object(
                Bucket=location.bucket,
                Key=location.key,
                Body=body,
                ContentType="application/json",
                CacheControl="no-store",
            )
        return
    replace_atomically(Path(destination.removeprefix("file://")), body)
