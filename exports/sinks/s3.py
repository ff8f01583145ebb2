"""The S3 sink: one NDJSON object per batch, named after the batch so a re-sent batch overwrites
its own object; and, for the status payload's ``downloadUrl``, the whole run in one object."""

from __future__ import annotations

import io
import re
from datetime import UTC

from exports.feeds import Batch
from exports.s3 import S3Location, parse_s3_uri, s3_client, s3_errors
from exports.sinks.base import SinkError
from smplat.cursors import parse_timestamp


class S3Sink:
    """One NDJSON object per batch under ``<prefix>/<feed>/YYYY/MM/DD/``.

    The key is named after the batch (its first row's position and its idempotency key), so a
    batch re-sent after a crash overwrites its own object instead of adding a copy.
    """

    name = "s3"
    # One object a batch: about 4.5 MB of follow-ups, not thousands of tiny objects.
    default_batch_size = 10_000

    def __init__(self, uri: str, *, client=None):
        self.root = parse_s3_uri(uri)
        self.client = client
        # Every object this run wrote, in row order: "Download latest NDJSON" streams them all.
        self.locations: list[S3Location] = []

    def open(self) -> None:
        self.client = self.client or s3_client()

    def location_for(self, batch: Batch) -> S3Location:
        stamp, _, first_id = batch.first_position.partition("~")
        first = parse_timestamp(stamp).astimezone(UTC)
        # Names sort like the rows: first row's time, then its id (ints zero-padded).
        first_id = re.sub(r"[^A-Za-z0-9-]", "", first_id.split("~", 1)[0])[:36]
        if first_id.isdigit():
            first_id = first_id.zfill(20)
        name = f"{first:%Y%m%dT%H%M%S%fZ}-{first_id}-{batch.key.removeprefix('msg_')[:12]}.ndjson"
        return self.root.child(f"{batch.feed}/{first:%Y/%m/%d}/{name}")

    def send(self, batch: Batch) -> None:
        location = self.location_for(batch)
        with s3_errors(f"S3 upload to {location}", SinkError):
            self.client.put_object(
                Bucket=location.bucket,
                Key=location.key,
                Body=batch.ndjson(),
                ContentType="application/x-ndjson",
            )
        if location not in self.locations:  # a re-sent batch overwrites its own object
            self.locations.append(location)

    def close(self) -> None:
        pass

    def whole_run_location(self, feed: str) -> S3Location | None:
        """One object holding every row this run wrote, in order, for a link that gives the
        whole run (the status payload's ``downloadUrl``); None when the run wrote nothing.

        A run of one batch is its object. A longer run is copied into ``latest/<feed>.ndjson``
        beside the feed folders (outside them, so the warehouse's loads of ``<feed>/...`` never
        read a row twice), overwritten by the next such run. The copy streams the batch
        objects through in 8 MiB parts: its memory does not grow with the run.
        """
        if len(self.locations) <= 1:
            return self.locations[0] if self.locations else None
        from boto3.s3.transfer import TransferConfig

        target = self.root.child(f"latest/{feed}.ndjson")
        # Buffered: s3transfer takes a short read for the end of the stream.
        with (
            s3_errors(f"S3 copy of the run's {len(self.locations)} objects to {target}", SinkError),
            io.BufferedReader(_Concatenated(self.client, self.locations), 1024 * 1024) as stream,
        ):
            self.client.upload_fileobj(
                stream,
                target.bucket,
                target.key,
                ExtraArgs={"ContentType": "application/x-ndjson"},
                Config=TransferConfig(use_threads=False, multipart_chunksize=8 * 1024 * 1024),
            )
        return target


class _Concatenated(io.RawIOBase):
    """The bodies of several S3 objects read one after the other, as one stream."""

    def __init__(self, client, locations: list[S3Location]):
        self.client = client
        self.pending = list(locations)
        self.body = None

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Also when the upload failed half way: the open body holds a pooled connection."""
        if self.body is not None:
            self.body.close()
            self.body = None
        self.pending = []
        super().close()

    def readinto(self, buffer) -> int:
        while True:
            if self.body is None:
                if not self.pending:
                    return 0
                location = self.pending.pop(0)
                self.body = self.client.get_object(Bucket=location.bucket, Key=location.key)["Body"]
            chunk = self.body.read(len(buffer))
            if chunk:
                buffer[: len(chunk)] = chunk
                return len(chunk)
            self.body.close()
            self.body = None
