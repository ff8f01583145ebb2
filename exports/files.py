"""Local files the exporters replace: cursor files and status payloads."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def replace_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash at any moment leaves the old content or
    the new one whole: a temporary file in the same folder, fsync, rename, fsync of the folder.

    The temporary file is created as ``open()`` would create it (0666 less the umask), not
    0600 as ``tempfile.mkstemp`` does: the site, a log shipper or a monitoring agent running
    as another user keeps reading the file after each replace.
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
