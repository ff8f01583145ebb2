"""One run per feed at a time: a session-level PostgreSQL advisory lock.

Session-level, not transaction-level, because a run spans many short transactions; the lock
goes away with the connection, so a killed exporter never leaves a feed locked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


class FeedBusy(Exception):
    """Another run holds the feed's lock: a normal outcome, reported, not a crash."""


def lock_key(feed: str) -> int:
    """A stable signed 64-bit key per feed (Python's hash() changes between processes)."""
    digest = hashlib.sha256(f"smplat-export:{feed}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def feed_lock(feed: str) -> Iterator[None]:
    key = lock_key(feed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise FeedBusy(f"{feed} is already being exported by another run")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def feed_lock_held(feed: str) -> bool:
    """Whether an exporter holds the feed's advisory lock right now (in any process).

    The lock lives as long as its connection, so a free lock under a run still marked
    running means that run's process is gone (killed, crashed, its host lost).
    """
    key = lock_key(feed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
        if acquired:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    return not acquired
