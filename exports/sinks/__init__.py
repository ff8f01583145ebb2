"""Where exported rows go: stdout, a file, a webhook or S3. Every feed shares them."""

from __future__ import annotations

from typing import BinaryIO

from django.conf import settings

from exports.sinks.base import Sink, SinkError
from exports.sinks.file import FileSink
from exports.sinks.s3 import S3Sink
from exports.sinks.stdout import StdoutSink
from exports.sinks.webhook import WebhookSink

SINK_KINDS = ("stdout", "file", "webhook", "s3")

__all__ = ["SINK_KINDS", "FileSink", "S3Sink", "Sink", "SinkError", "StdoutSink", "WebhookSink"]


class SinkConfigurationError(ValueError):
    pass


def build_sink(
    kind: str,
    *,
    envelope: str,
    file_path: str | None = None,
    webhook_url: str | None = None,
    s3_uri: str | None = None,
    format: str = "ndjson",
    stream: BinaryIO | None = None,
    on_attempt=None,
) -> Sink:
    if format == "csv" and kind not in {"stdout", "file"}:
        raise SinkConfigurationError("--format csv writes to stdout or a file only")
    if kind == "stdout":
        return StdoutSink(stream=stream, format=format)
    if kind == "file":
        if not file_path:
            raise SinkConfigurationError("the file sink needs --file-path")
        return FileSink(file_path, format=format)
    if kind == "webhook":
        if not webhook_url:
            raise SinkConfigurationError(
                "the webhook sink needs --webhook-url (or the feed's webhook variable)"
            )
        return WebhookSink(
            webhook_url,
            envelope=envelope,
            secret=settings.EXPORT_WEBHOOK_SECRET,
            on_attempt=on_attempt,
        )
    if kind == "s3":
        if not s3_uri:
            raise SinkConfigurationError("the s3 sink needs --s3-uri s3://bucket/prefix")
        try:
            return S3Sink(s3_uri)
        except ValueError as exc:
            raise SinkConfigurationError(str(exc)) from exc
    raise SinkConfigurationError(f"unknown sink {kind!r} (one of {', '.join(SINK_KINDS)})")
