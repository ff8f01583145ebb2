"""The file sink: NDJSON (or CSV) appended and fsynced per batch, a torn last line repaired on
open."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from exports.feeds import Batch
from exports.sinks.base import SinkError
from exports.sinks.encoding import csv_lines

# A run's rows in an appended file: ``<path>#bytes=<start>-<end>`` (end exclusive), so
# "Download latest NDJSON" serves that run's lines, not every run's before it.
_RANGE = re.compile(r"#bytes=(\d+)-(\d+)$")


def file_artifact(path: Path, start: int, end: int) -> str:
    return f"{path.resolve()}#bytes={start}-{end}"


def parse_file_artifact(artifact: str) -> tuple[str, tuple[int, int] | None]:
    """The path and byte range of a run's file artifact (no range: the whole file, as runs
    recorded before ranges were)."""
    match = _RANGE.search(artifact)
    if match is None:
        return artifact, None
    return artifact[: match.start()], (int(match[1]), int(match[2]))


class FileSink:
    """Appends NDJSON (or CSV) to a file; each batch is fsync'ed before it counts as accepted.

    A run killed in the middle of a write leaves a partial last line; the next run cuts it
    off before appending (its batch was never acknowledged, so it is sent again whole).
    """

    name = "file"
    # Each batch is fsync'ed and checkpointed: small batches would measure the disk.
    default_batch_size = 10_000

    def __init__(self, path: str | os.PathLike, *, format: str = "ndjson"):
        self.path = Path(path)
        self.format = format
        self._file = None
        self._has_header = False
        self._regular = True
        # Where this run's bytes begin and end in the file (after open, after each batch).
        self.start_offset = 0
        self.end_offset = 0

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a+b")  # noqa: SIM115 - closed in close()
            # /dev/null or a named pipe can be written to, but not truncated or fsync'ed.
            self._regular = stat.S_ISREG(os.fstat(self._file.fileno()).st_mode)
            if self._regular:
                self._drop_partial_line()
                self.start_offset = self.end_offset = self._file.seek(0, os.SEEK_END)
            self._has_header = self._regular and self._file.tell() > 0
        except OSError as exc:
            raise SinkError(f"cannot open {self.path}: {exc}") from exc

    def _drop_partial_line(self) -> None:
        file = self._file
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return
        # Scan back from the end in small blocks for the last newline.
        position = size
        while position > 0:
            step = min(8192, position)
            file.seek(position - step)
            block = file.read(step)
            if position == size and block.endswith(b"\n"):
                return
            index = block.rfind(b"\n")
            if index >= 0:
                file.truncate(position - step + index + 1)
                file.seek(0, os.SEEK_END)
                return
            position -= step
        file.truncate(0)
        file.seek(0)

    def send(self, batch: Batch) -> None:
        if self.format == "csv":
            rows = batch.row_dicts()
            header = list(rows[0]) if rows else []
            data = csv_lines(rows, header, with_header=not self._has_header)
            self._has_header = True
        else:
            data = batch.ndjson()
        try:
            self._file.write(data)
            self._file.flush()
            if self._regular:
                os.fsync(self._file.fileno())
                self.end_offset = self._file.tell()
        except OSError as exc:
            raise SinkError(f"cannot write {self.path}: {exc}") from exc

    def artifact(self) -> str | None:
        """This run's rows in the file, for its download; None for /dev/null or a pipe."""
        if not self._regular or self.end_offset <= self.start_offset:
            return None
        return file_artifact(self.path, self.start_offset, self.end_offset)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
