"""Keyset pages whose text PostgreSQL builds (NDJSON lines, CSV lines), read ahead on
worker connections. Used by the follow-up exporter and the segment CSV downloads.

Building the text costs PostgreSQL microseconds a row, more than anything else these paths
do, and one connection runs it on one core. So, outside a transaction:

1. the caller's connection finds where each page ends with an index-only keyset query
   (``OFFSET size - 1`` past the previous end), so pages are known before they are built;
2. ``READ_AHEAD_WORKERS`` worker connections each turn a key range (previous end, this end]
   into one value: ``string_agg`` of the lines in (timestamp, id) order, so Python handles
   one object per page, not one per row (or per cell);
3. the caller receives the pages in key order, one at a time: an exporter writes and
   checkpoints each before it asks for the next, exactly as with pages read one by one.

A page is its key range: a row that commits inside a range after its end was found (a late
transaction, which the exporter's safety lag lets in) must not push the range's last row out
of the page while the next page starts after that end. The page statement asks for one row
more than planned; when it gets it, that page is read again cut at the planned count, and
the pages after it are planned again from where it really ends.

Inside a transaction (a caller's atomic block, a test) other connections cannot see the
caller's rows: the same page statement then runs on the caller's connection, one page after
another, and also returns where the page ended, so no separate query finds it.

With a ``pacer`` (``smplat/pacing.py``, the exporters) the caller's connection asks before
each page whether other clients are at work; while they are, nothing is read ahead and each
page is built on the caller's connection in slices of ``pacing.SLICE_ROWS`` rows, each followed by
the pacer's sleep, and joined into one page of the same size as without it.
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

from smplat import pacing
from smplat.cursors import Cursor, keyset_order, parse_cursor, rows_through
from smplat.pacing import Pacer
from smplat.watermark import READER_APPLICATION_NAME

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
        # Named, so the commit watermark knows these connections only read.
        params["application_name"] = READER_APPLICATION_NAME
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


def _run_here(sql: str, params: list) -> tuple[bytes, int, str | None]:
    """A page statement on Django's own connection (which alone sees a caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        data, rows, position = cursor.fetchone()
    return (bytes(data), rows, position) if rows else (b"", 0, None)


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
    pacer: Pacer | None = None,
) -> Iterator[tuple[bytes, int]]:
    """Pages of ``queryset`` in (timestamp, id) order (newest first when ``descending``)
    strictly after ``start``, at most ``batch_size`` rows each and ``limit`` in all, as
    ``(text, rows)``: each row's ``line_sql`` (an SQL text expression over the model's
    columns, a constant of the caller) followed by a newline, encoded as UTF-8. With a
    ``pacer``, giving way to other clients while they work."""
    pages = _Pages(
        queryset,
        line_sql=line_sql,
        timestamp_field=timestamp_field,
        descending=descending,
        id_kind=id_kind,
        pacer=pacer,
    )
    # Decided when the first page is asked for: a streamed response iterates later.
    if connection.in_atomic_block:
        yield from pages.one_by_one(start, batch_size=batch_size, limit=limit)
    else:
        yield from pages.read_ahead(start, batch_size=batch_size, limit=limit)


# The lines reach string_agg in the page's order: the page subquery sorts (by the index)
# and bounds the rows, and nothing between it and the aggregate reorders them (no join, no
# grouping; PostgreSQL's documentation, "Aggregate Expressions", on input from a sorted
# subquery). An ORDER BY inside string_agg would sort every page again, and PostgreSQL 15
# does that even for sorted input, spilling a 4.5 MB page to a temporary file with the
# default work_mem: about a fifth of the page's time. tests/exports/test_encoded_rows.py
# pins the order on both paths.
_AGGREGATE = "convert_to(string_agg(page._line, E'\\n') || E'\\n', 'UTF8'), count(*)"


class _Pages:
    """The statements of ``text_pages`` for one queryset, line expression and order."""

    def __init__(
        self,
        queryset: QuerySet,
        *,
        line_sql: str,
        timestamp_field: str,
        descending: bool,
        id_kind: type,
        pacer: Pacer | None,
    ) -> None:
        self.pacer = pacer
        self.queryset = queryset
        self.line = RawSQL(line_sql, ())  # noqa: S611 - constants of reports/rows.py, telemetry/rows.py
        self.ts = timestamp_field
        self.descending = descending
        self.id_kind = id_kind

    def after(self, start: Cursor | None) -> QuerySet:
        return keyset_order(
            self.queryset, cursor=start, descending=self.descending, timestamp_field=self.ts
        )

    def statement(self, page: QuerySet, *, with_position: bool = False) -> tuple[str, list]:
        """The page's text and row count (and where it ends, ``with_position``) as SQL."""
        ts = self.ts
        lines = page.annotate(_line=self.line).values_list("_line", ts, "id")
        sql, params = lines.query.sql_with_params()
        if not with_position:
            return f"SELECT {_AGGREGATE}, NULL FROM ({sql}) AS page", list(params)  # noqa: S608
        backwards = "ASC" if self.descending else "DESC"
        # Materialised once, read twice: the text and the page's last key.
        return (
            f"WITH page AS MATERIALIZED ({sql}) SELECT {_AGGREGATE},"  # noqa: S608
            f" (SELECT {_POSITION.format(ts=ts)} FROM page"
            f" ORDER BY page.{ts} {backwards}, page.id {backwards} LIMIT 1) FROM page",
            list(params),
        )

    def one_by_one(
        self, start: Cursor | None, *, batch_size: int, limit: int | None
    ) -> Iterator[tuple[bytes, int]]:
        """Each page on Django's connection, the next one after where it ended."""
        sent = 0
        while limit is None or sent < limit:
            size = batch_size if limit is None else min(batch_size, limit - sent)
            if self.pacer is not None and self.pacer.busy():
                text, rows, start = self.sliced(start, size=size)
            else:
                text, rows, start = self.page_here(start, size=size)
            if rows:
                yield text, rows
                sent += rows
            if rows < size:
                return

    def page_here(self, start: Cursor | None, *, size: int) -> tuple[bytes, int, Cursor | None]:
        """The page of at most ``size`` rows after ``start`` on Django's connection, and the
        position it ends at (``start`` when empty)."""
        text, rows, position = _run_here(
            *self.statement(self.after(start)[:size], with_position=True)
        )
        return text, rows, parse_cursor(position, id_kind=self.id_kind) if rows else start

    def sliced(self, start: Cursor | None, *, size: int) -> tuple[bytes, int, Cursor | None]:
        """``page_here`` built ``pacing.SLICE_ROWS`` rows at a time, the pacer sleeping after
        each."""
        parts: list[bytes] = []
        rows = 0
        while rows < size:
            want = min(pacing.SLICE_ROWS, size - rows)
            self.pacer.busy()
            with self.pacer.timed():
                text, got, start = self.page_here(start, size=want)
            parts.append(text)
            rows += got
            if got < want:
                break
        return b"".join(parts), rows, start

    def next_page(self, start: Cursor | None, *, size: int) -> tuple[Cursor | None, bool]:
        """Where the page of ``size`` rows after ``start`` ends (an index-only scan of its
        keys), and whether rows follow it; ``None`` when fewer than ``size`` rows are left."""
        ends = list(self.after(start).values_list(self.ts, "id")[size - 1 : size + 1])
        if not ends:
            return None, False
        return Cursor(ends[0][0], str(ends[0][1])), len(ends) > 1

    def read_ahead(
        self, start: Cursor | None, *, batch_size: int, limit: int | None
    ) -> Iterator[tuple[bytes, int]]:
        """Pages whose ends the caller's connection finds, built by worker connections ahead
        of the caller, and yielded in key order."""
        workers = _Workers(READ_AHEAD_WORKERS)
        # (page being built, where it starts, rows planned), in key order.
        in_flight: deque[tuple[Future, Cursor | None, int]] = deque()
        left = limit  # rows not planned yet (None: no limit)
        more = True  # rows may follow the last page planned
        sent = 0
        try:
            while True:
                # Asked once a page: while other clients work, nothing is read ahead, and
                # once the pages in flight are out, pages are built in slices here.
                paced = self.pacer is not None and self.pacer.busy()
                if paced and not in_flight:
                    if not more:
                        return
                    size = batch_size if left is None else min(batch_size, left)
                    text, rows, start = self.sliced(start, size=size)
                    if rows:
                        yield text, rows
                        sent += rows
                    if left is not None:
                        left -= rows
                    more = rows == size and (left is None or left > 0)
                    continue
                while not paced and more and len(in_flight) <= READ_AHEAD_WORKERS:
                    size = batch_size if left is None else min(batch_size, left)
                    end, more = self.next_page(start, size=size)
                    page = self.after(start)
                    if end is not None:
                        page = rows_through(
                            page, end, descending=self.descending, timestamp_field=self.ts
                        )
                    # One row over the plan tells that rows came in after the end was found
                    # (and the LIMIT keeps the planner on the index, its estimate of a key
                    # range being poor: without it a page can get a JIT-compiled plan).
                    page = page[: size + 1] if end is not None else page[:size]
                    in_flight.append((workers.submit(*self.statement(page)), start, size))
                    start = end
                    if left is not None:
                        left -= size
                        more = more and left > 0
                if not in_flight:
                    return
                future, page_start, planned = in_flight.popleft()
                text, rows, _ = future.result()
                if rows > planned:
                    # Rows committed inside this range after its end was found: read the
                    # page again, cut at the planned count, and plan again from its end.
                    for later, _, _ in in_flight:
                        later.cancel()
                    in_flight.clear()
                    text, rows, position = _run_here(
                        *self.statement(self.after(page_start)[:planned], with_position=True)
                    )
                    start = parse_cursor(position, id_kind=self.id_kind)
                    left = None if limit is None else limit - sent - rows
                    more = left is None or left > 0
                if rows:
                    yield text, rows
                    sent += rows
        finally:
            workers.close()
