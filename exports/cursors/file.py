from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from exports.cursors.base import Checkpoint, CursorStoreError, cursor_from_json


class FileCursorStore:
    """A JSON file replaced atomically: temp file in the same folder, fsync, rename, fsync of
    the folder. A crash at any moment leaves the previous checkpoint or the new one whole."""

    name = "file"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def load(self) -> str | None:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CursorStoreError(f"cannot read {self.path}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CursorStoreError(f"{self.path} is not valid JSON: {exc}") from exc
        return cursor_from_json(data, str(self.path))

    def save(self, checkpoint: Checkpoint) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            descriptor, temp_name = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=folder
            )
            try:
                with os.fdopen(descriptor, "w") as temp:
                    json.dump(checkpoint.as_json(), temp, indent=2)
                    temp.write("\n")
                    temp.flush()
                    os.fsync(temp.fileno())
                os.replace(temp_name, self.path)
            except BaseException:
                Path(temp_name).unlink(missing_ok=True)
                raise
            directory = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(directory)  # the rename itself survives a power cut
            finally:
                os.close(directory)
        except OSError as exc:
            raise CursorStoreError(f"cannot write {self.path}: {exc}") from exc
