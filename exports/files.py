"""Local files the exporters replace: cursor files and status payloads."""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

# A temporary file is renamed within the fsync of a few kilobytes; one this old was left by
# a writer that died (SIGKILL, power cut), not one still writing.
LEFTOVER_AGE_SECONDS = 600


def replace_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash at any moment leaves the old content or
    the new one whole: a temporary file in the same folder, fsync, rename, fsync of the folder.

    The temporary file is created as ``open()`` would create it (0666 less the umask), not
    0600 as ``tempfile.mkstemp`` does: the site, a log shipper or a monitoring agent running
    as another user keeps reading the file after each replace.
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / _temporary_name(path.name, secrets.token_hex(6))
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
    remove_leftovers(path)


def _temporary_name(name: str, token: str) -> str:
    return f".{name}.{token}.tmp"


def remove_leftovers(path: Path, *, older_than: float = LEFTOVER_AGE_SECONDS) -> list[Path]:
    """Remove the temporary files that earlier replaces of ``path`` left behind when their
    process was killed between creating and renaming them (``.<name>.<12 hex>.tmp``; nothing
    else in the folder matches). Only those older than ``older_than`` seconds: a younger one
    may belong to a writer still at work. Returns what was removed; a file that cannot be
    removed is left for a later run."""
    pattern = re.compile(re.escape(_temporary_name(path.name, "@")).replace("@", "[0-9a-f]{12}"))
    cutoff = time.time() - older_than
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
