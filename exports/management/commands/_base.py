"""What the exporter commands share: the flags of SPEC §4, SIGTERM handling and the summary.

Each command is a thin ``handle()`` over ``exports.services``; tests call the services.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from exports import registry, services
from exports.cursors import CURSOR_STORE_KINDS
from exports.locks import FeedBusy
from exports.models import ExportRun
from exports.progress import Progress
from exports.sinks import SINK_KINDS


class _TextToBinary:
    """Lets the stdout sink write bytes to a text stream (``call_command(stdout=StringIO())``)."""

    def __init__(self, text_stream):
        self.text_stream = text_stream

    def write(self, data: bytes) -> int:
        self.text_stream.write(data.decode())
        return len(data)

    def flush(self) -> None:
        self.text_stream.flush()


class StopFlag:
    """SIGTERM (a stopping container, a CI job cancelled) and SIGINT (Ctrl-C; GitHub sends it
    first when a run is cancelled) end the run after the batch in flight is delivered and
    checkpointed, instead of killing it mid-write. A second Ctrl-C interrupts at once."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def __call__(self) -> bool:
        return self.requested

    def __enter__(self) -> StopFlag:
        def _handler(signum, frame):
            self.requested = True
            if signum == signal.SIGINT:
                signal.signal(signal.SIGINT, signal.default_int_handler)

        # ValueError outside the main thread (a command called from a worker thread).
        with contextlib.suppress(ValueError):
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, _handler)
        return self

    def __exit__(self, *exc_info) -> None:
        """The caller's handlers again (a test runner's Ctrl-C, a worker's SIGTERM)."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


class ExportCommand(BaseCommand):
    """Base of the row exporters: subclasses set ``feed`` and may add flags."""

    feed: str
    default_sink = "stdout"
    # A scheduled run needs no system checks first (``manage.py check`` and the test suite
    # run them); skipping them saves importing every URLconf, view and admin on each run.
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        definition = registry.row_feed(self.feed)
        names = definition.setting_names()
        parser.add_argument("--limit", type=positive_int, help="at most N rows in this run")
        parser.add_argument(
            "--cursor",
            help="start strictly after this cursor (<ISO timestamp>[~<id>]) instead of the store",
        )
        parser.add_argument("--sink", choices=SINK_KINDS, default=self.default_sink)
        parser.add_argument("--file-path", help="NDJSON file the file sink appends to")
        parser.add_argument(
            "--webhook-url",
            help=f"webhook sink endpoint (default ${names['webhook_url']})"
            if "webhook_url" in names
            else "webhook sink endpoint",
        )
        parser.add_argument("--s3-uri", help="s3://bucket/prefix for the s3 sink")
        parser.add_argument(
            "--cursor-store",
            choices=CURSOR_STORE_KINDS,
            help="keep a checkpoint and resume from it (no store unless given)",
        )
        parser.add_argument(
            "--cursor-store-path",
            help=f"cursor file of the file store (default ${names['cursor_path']}, the file"
            " the site's runs use too)",
        )
        parser.add_argument("--cursor-store-uri", help="s3://bucket/key of the s3 store")
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            help="rows per batch (default EXPORT_BATCH_SIZE, else 500 for webhooks, 10000 for"
            " the other sinks)",
        )
        parser.add_argument(
            "--trigger", choices=ExportRun.Trigger.values, default=ExportRun.Trigger.SCHEDULE
        )

    def options_from(self, options: dict) -> services.ExportOptions:
        stream = getattr(self.stdout._out, "buffer", None) or _TextToBinary(self.stdout._out)
        return services.ExportOptions(
            sink=options["sink"],
            file_path=options["file_path"],
            webhook_url=options["webhook_url"],
            s3_uri=options["s3_uri"],
            cursor_store=options["cursor_store"],
            cursor_store_path=options["cursor_store_path"],
            cursor_store_uri=options["cursor_store_uri"],
            cursor=options["cursor"],
            limit=options["limit"],
            batch_size=options["batch_size"],
            provider_id=options.get("provider_id"),
            lookback_days=options.get("lookback_days"),
            format=options.get("format") or "ndjson",
            api_url=options.get("api_url"),
            stream=stream,
        )

    def handle(self, *args, **options) -> None:
        progress = Progress(stream=sys.stderr)
        started = time.monotonic()
        try:
            with StopFlag() as stop:
                run = services.export_feed(
                    feed=self.feed,
                    options=self.options_from(options),
                    trigger=options["trigger"],
                    progress=progress,
                    should_stop=stop,
                )
        except FeedBusy as exc:
            raise CommandError(f"{exc}; not starting a second run") from exc
        except services.ExportFailed as exc:
            run = exc.run
            raise CommandError(
                f"{run.get_feed_display()} export failed after {run.rows:,} rows"
                f" (run #{run.pk}): {exc}. Cursor left at {run.cursor_after or '(start)'}."
            ) from exc
        if options["verbosity"] == 0:
            return
        elapsed = time.monotonic() - started
        rate = run.rows / elapsed if elapsed > 0 else 0
        # The summary goes to stderr: stdout may be the NDJSON itself.
        self.stderr.write(
            self.style.SUCCESS(
                f"{run.get_feed_display()}: {run.rows:,} rows to {run.sink} in {elapsed:.1f}s"
                f" ({rate:,.0f} rows/s); cursor {run.cursor_after or '(none)'} (run #{run.pk})"
            )
        )
        if run.error:  # a succeeded run's notice: rows a later run exports
            self.stderr.write(self.style.WARNING(f"{run.error}; a later run exports them."))


class SnapshotCommand(BaseCommand):
    feed: str

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", help="the capture route's export URL (default *_EXPORT_URL)")
        parser.add_argument("--bucket", help="S3 bucket (default *_EXPORT_BUCKET)")
        parser.add_argument("--prefix", help="S3 key prefix (default *_EXPORT_S3_PREFIX)")
        parser.add_argument(
            "--status-uri", help="where the status JSON goes (default *_EXPORT_STATUS_S3_URI)"
        )
        parser.add_argument(
            "--trigger", choices=ExportRun.Trigger.values, default=ExportRun.Trigger.SCHEDULE
        )

    def handle(self, *args, **options) -> None:
        try:
            run = services.export_snapshot(
                feed=self.feed,
                trigger=options["trigger"],
                url=options["url"],
                bucket=options["bucket"],
                prefix=options["prefix"],
                status_uri=options["status_uri"],
            )
        except FeedBusy as exc:
            raise CommandError(f"{exc}; not starting a second run") from exc
        except services.ExportFailed as exc:
            raise CommandError(
                f"{exc.run.get_feed_display()} export failed (run #{exc.run.pk}): {exc}"
            ) from exc
        if options["verbosity"] == 0:
            return
        if run.outcome == ExportRun.Outcome.NO_DATA:
            self.stderr.write(
                f"{run.get_feed_display()}: no events yet (the export route answered 404);"
                f" nothing uploaded (run #{run.pk})"
            )
            return
        self.stderr.write(
            self.style.SUCCESS(
                f"{run.get_feed_display()}: {run.rows:,} events uploaded to {run.cursor_after}"
                f" (run #{run.pk})"
            )
        )
        if run.error:  # a succeeded run's notice: the malformed lines left out
            self.stderr.write(self.style.WARNING(run.error))
