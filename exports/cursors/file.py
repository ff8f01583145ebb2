"""The file cursor store: the checkpoint replaced atomically (temp file, fsync, rename) after each
accepted batch."""

from __future__ import annotations

import json
import os
from pathlib import Path

from exports.cursors.base import Checkpoint, CursorStoreError, cursor_from_json
from exports.files import replace_atomically


class FileCursorStore:
    """A JSON file replaced atomically: temp file in the same folder, fsync, rename, fsync of
    the folder. A crash at any moment leaves the previous checkpoint or the new one whole."""

    name = "file"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.found = False

    def load(self) -> str | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            self.found = False
            return None
        except OSError as exc:
            raise CursorStoreError(f"cannot read {self.path}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CursorStoreError(f"{self.path} is not valid JSON: {exc}") from exc
        cursor = cursor_from_json(data, str(self.path))
        self.found = True
        return cursor

    def save(self, checkpoint: Checkpoint) -> None:
        data = json.dumps(checkpoint.as_json(), indent=2).encode() + b"\n"
        try:
            replace_atomically(self.path, data)
        except OSError as exc:
            raise CursorStoreError(f"cannot write {self.path}: {exc}") from exc
