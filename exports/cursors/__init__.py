"""Where a feed's checkpoint lives between runs: a local file or an S3 object."""

from __future__ import annotations

from exports.cursors.base import Checkpoint, CursorStore, CursorStoreError
from exports.cursors.file import FileCursorStore
from exports.cursors.s3 import S3CursorStore

CURSOR_STORE_KINDS = ("file", "s3")

__all__ = [
    "CURSOR_STORE_KINDS",
    "Checkpoint",
    "CursorStore",
    "CursorStoreError",
    "FileCursorStore",
    "S3CursorStore",
]


def build_cursor_store(
    kind: str, *, path: str | None = None, uri: str | None = None
) -> CursorStore:
    if kind == "file":
        if not path:
            raise CursorStoreError("the file cursor store needs --cursor-store-path")
        return FileCursorStore(path)
    if kind == "s3":
        if not uri:
            raise CursorStoreError("the s3 cursor store needs --cursor-store-uri s3://...")
        try:
            return S3CursorStore(uri)
        except ValueError as exc:
            raise CursorStoreError(str(exc)) from exc
    raise CursorStoreError(f"unknown cursor store {kind!r} (one of file, s3)")
