"""Keyset pages whose NDJSON PostgreSQL builds, read ahead on worker connections.

Building the JSON text costs PostgreSQL a few microseconds a row, more than everything else
an export does, and one connection runs it on one core. So the pages are built by
``READ_AHEAD_WORKERS`` connections at once while the engine writes and checkpoints the page
before them, in order:

1. the main connection finds where each page ends with an index-only keyset query
   (``OFFSET size - 1 LIMIT 1`` past the previous end), so pages are known before they exist;
2. a worker connection turns the range (previous end, this end] into one bytes value:
   ``string_agg`` of the lines in (timestamp, id) order, and the number of rows, so
   Python handles one object per page, not one per row;
   (Inside a transaction, where other connections cannot see the caller's rows, pages are
   read one after another on Django's own connection instead.)
3. the engine receives the pages in key order and checkpoints each only after the sink
   accepted it, exactly as with pages read one by one: a run killed at any moment resumes
   after the last accepted page. Nothing past the high-water mark is ever read, because
   every page is a range of the same filtered queryset.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from smplat.cursors import Cursor, rows_after, rows_through

READ_AHEAD_WORKERS = 2


class _Workers:
    """One psycopg connection per worker thread, all closed by ``close()``."""

    def submit(self, sql: str, params: list) -> Future:
        return self.pool.submit(self.fetch, sql, params)

    def __init__(self, count: int) -> None:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        self._params = params
        self._local = threading.local()
        self._opened: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="export-page")

    def fetch(self, sql: str, params: list) -> tuple[bytes, int]:
        conn = getattr(self._local, "connection", None)
        if conn is None:
            conn = psycopg.connect(**self._params, autocommit=True)
            self._local.connection = conn
            with self._lock:
                self._opened.append(conn)
        # binary: the bytea comes back as the bytes themselves, no decoding or hex.
        data, rows = conn.execute(sql, params, binary=True).fetchone()
        return (bytes(data), rows) if rows else (b"", 0)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        for conn in self._opened:
            conn.close()


class _SameConnection:
    """Pages read one after another on Django's own connection: inside a transaction (a
    caller's atomic block, a test) only this connection sees the caller's rows."""

    def submit(self, sql: str, params: list) -> Future:
        future: Future = Future()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                data, rows = cursor.fetchone()
            future.set_result((bytes(data), rows) if rows else (b"", 0))
        except Exception as exc:  # raised where the page is consumed, as from a worker
            future.set_exception(exc)
        return future

    def close(self) -> None:
        pass


def encoded_pages(
    queryset: QuerySet,
    *,
    json_sql: str,
    start: Cursor | None,
    timestamp_field: str,
    batch_size: int,
    limit: int | None,
) -> Iterator[tuple[bytes, int]]:
    """NDJSON pages of ``queryset`` (ordered by (timestamp, id)) strictly after ``start``,
    in order, at most ``batch_size`` rows each and ``limit`` rows in all: ``(lines, rows)``."""
    ts = timestamp_field
    # The expression is a constant of the feed (reports/rows.py), never input.
    line = RawSQL(json_sql, ())  # noqa: S611
    workers = _SameConnection() if connection.in_atomic_block else _Workers(READ_AHEAD_WORKERS)
    in_flight: deque[Future] = deque()
    planned = 0
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) <= READ_AHEAD_WORKERS:
                size = batch_size if limit is None else min(batch_size, limit - planned)
                if size <= 0:
                    exhausted = True
                    break
                after = rows_after(queryset, start, timestamp_field=ts)
                ends = list(after.values_list(ts, "id")[size - 1 : size])
                end = Cursor(ends[0][0], str(ends[0][1])) if ends else None
                page = after if end is None else rows_through(after, end, timestamp_field=ts)
                sql, params = (
                    page.annotate(_line=line).values_list("_line", ts, "id")[:size].query
                ).sql_with_params()
                aggregate = (
                    "SELECT convert_to(string_agg(page._line, E'\\n'"  # noqa: S608
                    f" ORDER BY page.{ts}, page.id) || E'\\n', 'UTF8'), count(*)"
                    f" FROM ({sql}) AS page"
                )
                in_flight.append(workers.submit(aggregate, list(params)))
                planned += size
                if end is None:
                    exhausted = True  # the open-ended page takes whatever is left
                start = end
            if not in_flight:
                return
            lines, rows = in_flight.popleft().result()
            if not rows:
                return
            yield lines, rows
    finally:
        workers.close()
