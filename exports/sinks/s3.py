"""The S3 sink: one NDJSON object per batch, named after the batch so a re-sent batch overwrites
its own object."""

from __future__ import annotations

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
        self.last_location: S3Location | None = None
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
        self.last_location = location
        if location not in self.locations:  # a re-sent batch overwrites its own object
            self.locations.append(location)

    def close(self) -> None:
        pass

    def download_location(self) -> str | None:
        return str(self.last_location) if self.last_location else None
