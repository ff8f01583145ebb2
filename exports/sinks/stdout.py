"""The stdout sink: NDJSON (or CSV) on standard output, jq friendly."""

from __future__ import annotations

import sys
from typing import BinaryIO

from exports.feeds import Batch
from exports.sinks.encoding import csv_lines


class StdoutSink:
    """NDJSON (or CSV) on standard output, one row a line, flushed per batch (``jq`` friendly)."""

    name = "stdout"
    default_batch_size = 10_000

    def __init__(self, *, stream: BinaryIO | None = None, format: str = "ndjson"):
        self.stream = stream or sys.stdout.buffer
        self.format = format
        self._header_written = False

    def open(self) -> None:
        pass

    def send(self, batch: Batch) -> None:
        if self.format == "csv":
            rows = batch.row_dicts()
            header = list(rows[0]) if rows else []
            data = csv_lines(rows, header, with_header=not self._header_written)
            self._header_written = True
        else:
            data = batch.ndjson()
        self.stream.write(data)
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()
