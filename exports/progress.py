"""The progress line an exporter draws on a terminal (rows, rows/s), and nothing elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Rows and rows/s on stderr, redrawn in place at most twice a second, only on a
    terminal (logs of scheduled runs get the one-line summary instead)."""

    def __init__(self, *, stream: TextIO | None = None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self.rows = 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    def update(self, rows: int) -> None:
        self.rows = rows
        now = time.monotonic()
        if self.enabled and now - self._drawn_at >= 0.5:
            self._drawn_at = now
            self.stream.write(f"\r{self.rows:,} rows, {self.rate:,.0f} rows/s")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._drawn_at:
            self.stream.write("\n")
            self.stream.flush()
