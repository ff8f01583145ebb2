"""Keyset pages whose text PostgreSQL builds (NDJSON lines, CSV lines), read ahead on
worker connections. Used by the follow-up exporter and the segment CSV downloads.

Building the text costs PostgreSQL microseconds a row, more than anything else these paths
do, and one connection runs it on one core. So, outside a transaction:

1. the caller's connection finds where each page ends with an index-only keyset query
   (``OFFSET size - 1 LIMIT 1`` past the previous end), so pages are known before they are
   built;
2. ``READ_AHEAD_WORKERS`` worker connections each turn a range (previous end, this end]
   into one value: ``string_agg`` of the lines in (timestamp, id) order, so Python handles
   one object per page, not one per row (or per cell);
3. the caller receives the pages in key order, one at a time: an exporter writes and
   checkpoints each before it asks for the next, exactly as with pages read one by one.

Inside a transaction (a caller's atomic block, a test) other connections cannot see the
caller's rows: the same page statement then runs on the caller's connection, one page after
another, and also returns where the page ended, so no separate query finds it.
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

from smplat.cursors import Cursor, keyset_order, parse_cursor, rows_through

READ_AHEAD_WORKERS = 2
_POSITION = (
    "to_char(page.{ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    " || '~' || page.id::text"
)


class _Workers:
    """One psycopg connection per worker thread, all closed by ``close()``."""

    def __init__(self, count: int) -> None:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        self._params = params
        self._local = threading.local()
        self._opened: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="text-page")

    def submit(self, sql: str, params: list) -> Future:
        return self.pool.submit(self._fetch, sql, params)

    def _fetch(self, sql: str, params: list) -> tuple[bytes, int, str | None]:
        conn = getattr(self._local, "connection", None)
        if conn is None:
            conn = psycopg.connect(**self._params, autocommit=True)
            self._local.connection = conn
            with self._lock:
                self._opened.append(conn)
        # binary: the bytea comes back as the bytes themselves, no decoding or hex.
        data, rows, position = conn.execute(sql, params, binary=True).fetchone()
        return (bytes(data), rows, position) if rows else (b"", 0, None)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        for conn in self._opened:
            conn.close()


class _SameConnection:
    """Pages built one after another on Django's own connection (inside a transaction)."""

    def submit(self, sql: str, params: list) -> Future:
        future: Future = Future()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                data, rows, position = cursor.fetchone()
            future.set_result((bytes(data), rows, position) if rows else (b"", 0, None))
        except Exception as exc:  # raised where the page is consumed, as from a worker
            future.set_exception(exc)
        return future

    def close(self) -> None:
        pass


def text_pages(
    queryset: QuerySet,
    *,
    line_sql: str,
    start: Cursor | None,
    timestamp_field: str,
    batch_size: int,
    limit: int | None = None,
    descending: bool = False,
    id_kind: type = int,
) -> Iterator[tuple[bytes, int]]:
    """Pages of ``queryset`` in (timestamp, id) order (newest first when ``descending``)
    strictly after ``start``, at most ``batch_size`` rows each and ``limit`` in all, as
    ``(text, rows)``: each row's ``line_sql`` (an SQL text expression over the model's
    columns, a constant of the caller) followed by a newline, encoded as UTF-8."""
    ts = timestamp_field
    backwards = "ASC" if descending else "DESC"
    line = RawSQL(line_sql, ())  # noqa: S611 - constants of reports/rows.py, telemetry/rows.py
    ahead = not connection.in_atomic_block
    workers = _Workers(READ_AHEAD_WORKERS) if ahead else _SameConnection()
    in_flight: deque[Future] = deque()
    planned = 0
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) <= (READ_AHEAD_WORKERS if ahead else 0):
                size = batch_size if limit is None else min(batch_size, limit - planned)
                if size <= 0:
                    exhausted = True
                    break
                page = keyset_order(
                    queryset, cursor=start, descending=descending, timestamp_field=ts
                )
                end = None
                if ahead:
                    ends = list(page.values_list(ts, "id")[size - 1 : size])
                    if ends:
                        end = Cursor(ends[0][0], str(ends[0][1]))
                        page = rows_through(page, end, descending=descending, timestamp_field=ts)
                sql, params = (
                    page.annotate(_line=line).values_list("_line", ts, "id")[:size].query
                ).sql_with_params()
                # The lines arrive in the page's order: the subquery sorts (by the index) and
                # limits, and nothing between it and the aggregate reorders rows (no join,
                # no grouping). An ORDER BY inside string_agg would sort the page again, and
                # PostgreSQL 15 does that even for sorted input, spilling a 10 000-row page
                # of 4.5 MB to a temporary file with the default work_mem: about a fifth of
                # the page's time. The order is pinned by tests/exports/test_row_exports.py.
                aggregate = "convert_to(string_agg(page._line, E'\\n') || E'\\n', 'UTF8'), count(*)"
                if ahead:  # the page's end is known already
                    statement = f"SELECT {aggregate}, NULL FROM ({sql}) AS page"  # noqa: S608
                else:  # materialised once, read twice: the text and where the page ends
                    statement = (
                        f"WITH page AS MATERIALIZED ({sql}) SELECT {aggregate},"  # noqa: S608
                        f" (SELECT {_POSITION.format(ts=ts)} FROM page"
                        f" ORDER BY page.{ts} {backwards}, page.id {backwards} LIMIT 1)"
                        " FROM page"
                    )
                future = workers.submit(statement, list(params))
                in_flight.append(future)
                planned += size
                if ahead:
                    start = end
                    exhausted = end is None  # the open-ended page takes what is left
            if not in_flight:
                return
            text, rows, position = in_flight.popleft().result()
            if not rows:
                return
            yield text, rows
            if not ahead:
                if rows < size:
                    return
                start = parse_cursor(position, id_kind=id_kind)
    finally:
        workers.close()
