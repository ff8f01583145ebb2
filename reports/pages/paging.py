"""Newest-first tables of the operator pages, paged both ways by keyset: ``?before=<cursor>``
shows the rows just older than a position, ``?after=<cursor>`` the rows just newer, so a
table has "Newer" beside "Older" and knows when it is on its newest or oldest page.

The first page costs one query, as before; a page away from the top costs one more (an
indexed EXISTS on the other side of the page), so no link leads to an empty page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from smplat.cursors import Cursor, format_cursor, keyset_order, keyset_page


@dataclass
class TwoWayPage:
    rows: list[dict] = field(default_factory=list)
    older: str | None = None  # ?before= of the next older page; None on the oldest
    newer: str | None = None  # ?after= of the next newer page; None on the newest

    @property
    def is_newest(self) -> bool:
        return self.newer is None


def newest_first_page(
    queryset: QuerySet,
    *,
    before: Cursor | None,
    after: Cursor | None,
    limit: int,
    timestamp_field: str,
    columns: tuple[str, ...],
    id_field: str = "id",
) -> TwoWayPage:
    """``limit`` rows newest first: the newest, those just older than ``before``, or those
    just newer than ``after`` (``before`` wins when both are given)."""
    keys = {"timestamp_field": timestamp_field, "id_field": id_field}

    def position(row: dict) -> str:
        return format_cursor(row[timestamp_field], row[id_field])

    def exists_beyond(cursor: Cursor, *, descending: bool) -> bool:
        return keyset_order(queryset, cursor=cursor, descending=descending, **keys).exists()

    if before is not None or after is None:
        rows, older = keyset_page(
            queryset, cursor=before, limit=limit, descending=True, columns=columns, **keys
        )
        # Newer rows exist beyond the page's top row (or beyond the position, on an empty page).
        top = _cursor(rows[0], **keys) if rows else before
        newer = None
        if before is not None and exists_beyond(top, descending=False):
            newer = str(top)
        return TwoWayPage(rows=rows, older=older, newer=newer)

    rows, more_newer = keyset_page(
        queryset, cursor=after, limit=limit, descending=False, columns=columns, **keys
    )
    rows.reverse()
    newer = position(rows[0]) if more_newer else None
    bottom = _cursor(rows[-1], **keys) if rows else after
    older = str(bottom) if exists_beyond(bottom, descending=True) else None
    return TwoWayPage(rows=rows, older=older, newer=newer)


def _cursor(row: dict, *, timestamp_field: str, id_field: str) -> Cursor:
    return Cursor(row[timestamp_field], str(row[id_field]))
