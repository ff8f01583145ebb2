"""What every cursor store shares: the checkpoint a run saves after each accepted batch, and the
store protocol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from smplat.cursors import format_timestamp


class CursorStoreError(Exception):
    """The checkpoint could not be read or written."""


@dataclass(frozen=True)
class Checkpoint:
    """The cursor file: ``{"cursor", "rows", "updatedAt"}`` (SPEC §4), plus the feed's name.

    ``rows`` counts the rows of the run that wrote it (so far, while it runs).
    """

    cursor: str | None
    rows: int
    updated_at: datetime
    feed: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "rows": self.rows,
            "updatedAt": format_timestamp(self.updated_at),
            "feed": self.feed,
        }


class CursorStore(Protocol):
    name: str
    # After ``load``: whether the store held a checkpoint (its cursor may be None, the
    # beginning, after a reset) or had none yet.
    found: bool

    def load(self) -> str | None:
        """The cursor to resume from, or None when nothing was exported yet."""
        ...

    def save(self, checkpoint: Checkpoint) -> None:
        """Replace the checkpoint atomically: a reader sees the old one or the new one."""
        ...


def cursor_from_json(data: Any, where: str) -> str | None:
    if not isinstance(data, dict) or "cursor" not in data:
        raise CursorStoreError(f"{where} is not a cursor file (no 'cursor' key)")
    cursor = data["cursor"]
    if cursor is not None and not isinstance(cursor, str):
        raise CursorStoreError(f"{where}: 'cursor' must be a string or null")
    return cursor
