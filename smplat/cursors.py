"""Positions in a (timestamp, id) order: the cursors of the API and the exporters.

Rows are ordered by (timestamp, id). A cursor names the last row a client has seen, so the
next page starts strictly after it and rows that share a timestamp are neither skipped nor
repeated. Its text form is readable on purpose, because operators see it on cards, in Slack
and in cursor files::

    2026-01-22T04:00:00.123456Z~7d9c0a0e-3b4f-4a57-9d1e-0c7f1f7e6a11

A bare ISO-8601 timestamp (``2026-01-22T04:00:00Z``) is a cursor too: rows strictly after
that instant. ``~`` never occurs in a timestamp and needs no escaping in a URL.

The filter is a row comparison, ``(ts, id) > (%s, %s)``: PostgreSQL bounds it by the
(ts, id) index. The equivalent ``ts > t OR (ts = t AND id > i)`` is not bounded by the index
and turns a full walk of a large table quadratic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

SEPARATOR = "~"
BIGINT_MAX = 2**63 - 1


class InvalidCursor(ValueError):
    """The text is not a cursor; the message says why, for the client."""


@dataclass(frozen=True)
class Cursor:
    timestamp: datetime
    id: str | None = None  # None: a bare timestamp, every row strictly after it

    def __str__(self) -> str:
        return format_cursor(self.timestamp, self.id)


def format_timestamp(value: datetime) -> str:
    """UTC, microseconds kept (ties are decided by id, not by a rounded clock), ``Z`` suffix."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def format_cursor(timestamp: datetime, row_id: object | None) -> str:
    text = format_timestamp(timestamp)
    return text if row_id is None else f"{text}{SEPARATOR}{row_id}"


def parse_timestamp(text: str) -> datetime:
    try:
        value = parse_datetime(text.strip())
    except ValueError:
        value = None
    if value is None:
        raise InvalidCursor(f"{text!r} is not an ISO-8601 timestamp")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # a naive timestamp is read as UTC, as documented
    try:
        # In UTC: PostgreSQL refuses offsets beyond 15:59 that Python accepts (up to 23:59).
        return value.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before Python's first instant
        raise InvalidCursor(f"{text!r} is out of range") from exc


def parse_cursor(text: str, *, id_kind: type = uuid.UUID) -> Cursor:
    """Parse ``<timestamp>~<id>`` or a bare timestamp; raise InvalidCursor otherwise.

    ``id_kind`` is the type of the table's id (``uuid.UUID`` or ``int``), checked here so a
    malformed id is a client error rather than a database error.
    """
    if not isinstance(text, str) or not text.strip() or len(text) > 200:
        raise InvalidCursor("a cursor is a timestamp, optionally followed by ~ and a row id")
    stamp, sep, raw_id = text.strip().partition(SEPARATOR)
    timestamp = parse_timestamp(stamp)
    if not sep:
        return Cursor(timestamp)
    try:
        row_id = id_kind(raw_id)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(f"{raw_id!r} is not a valid row id in a cursor") from exc
    if id_kind is int and not 0 <= row_id <= BIGINT_MAX:  # ids are bigserial
        raise InvalidCursor(f"{raw_id!r} is not a valid row id in a cursor")
    return Cursor(timestamp, str(row_id))


def _keyset(
    queryset: QuerySet, cursor: Cursor, operator: str, timestamp_field: str, id_field: str
) -> QuerySet:
    meta = queryset.model._meta
    if cursor.id is None:
        lookup = "gt" if operator == ">" else "lt"
        return queryset.filter(**{f"{timestamp_field}__{lookup}": cursor.timestamp})
    table = meta.db_table
    ts_column = meta.get_field(timestamp_field).column
    id_column = meta.get_field(id_field).column
    # Identifiers come from the model's metadata and values travel as parameters.
    condition = RawSQL(  # noqa: S611
        f'("{table}"."{ts_column}", "{table}"."{id_column}") {operator} (%s, %s)',
        (cursor.timestamp, cursor.id),
        output_field=BooleanField(),
    )
    return queryset.filter(condition)


def rows_after(
    queryset: QuerySet, cursor: Cursor | None, *, timestamp_field: str, id_field: str = "id"
) -> QuerySet:
    """The rows of ``queryset`` strictly after ``cursor`` in (timestamp, id) order."""
    if cursor is None:
        return queryset
    return _keyset(queryset, cursor, ">", timestamp_field, id_field)


def rows_through(
    queryset: QuerySet,
    cursor: Cursor,
    *,
    descending: bool = False,
    timestamp_field: str,
    id_field: str = "id",
) -> QuerySet:
    """The rows up to ``cursor`` included (a position with an id) in the walk's direction:
    where a page ends."""
    return _keyset(queryset, cursor, ">=" if descending else "<=", timestamp_field, id_field)


def rows_before(
    queryset: QuerySet, cursor: Cursor | None, *, timestamp_field: str, id_field: str = "id"
) -> QuerySet:
    """The rows strictly before ``cursor``: the next page of a newest-first walk."""
    if cursor is None:
        return queryset
    return _keyset(queryset, cursor, "<", timestamp_field, id_field)


def keyset_order(
    queryset: QuerySet,
    *,
    cursor: Cursor | None,
    descending: bool = False,
    timestamp_field: str,
    id_field: str = "id",
) -> QuerySet:
    """The rows after ``cursor`` in (timestamp, id) order (before it, newest first, when
    ``descending``), ordered so that the (timestamp, id) index serves the page."""
    if descending:
        queryset = rows_before(queryset, cursor, timestamp_field=timestamp_field, id_field=id_field)
        return queryset.order_by(f"-{timestamp_field}", f"-{id_field}")
    queryset = rows_after(queryset, cursor, timestamp_field=timestamp_field, id_field=id_field)
    return queryset.order_by(timestamp_field, id_field)


def keyset_page(
    queryset: QuerySet,
    *,
    cursor: Cursor | None,
    limit: int,
    descending: bool = False,
    timestamp_field: str,
    id_field: str = "id",
    columns: tuple[str, ...],
) -> tuple[list[dict], str | None]:
    """One page of ``.values(*columns)`` dicts in (timestamp, id) order, and the next cursor.

    Fetches one row more than asked to know whether a next page exists: the cursor is None
    on the last page, so a client walking ``nextCursor`` stops without an extra request.
    """
    queryset = keyset_order(
        queryset,
        cursor=cursor,
        descending=descending,
        timestamp_field=timestamp_field,
        id_field=id_field,
    )
    wanted = tuple(dict.fromkeys((*columns, timestamp_field, id_field)))
    rows = list(queryset.values(*wanted)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, format_cursor(last[timestamp_field], last[id_field])
