"""Pages of text built by PostgreSQL (smplat/textpages.py): every row once, in key order,
pages of at most ``batch_size`` rows and ``limit`` in all, on both paths, and a row that
commits inside a page already planned is not lost."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection

from reports.models import GuardrailFollowUp
from smplat import textpages
from smplat.cursors import Cursor
from smplat.textpages import text_pages
from tests.exports.conftest import BASE_TIME
from tests.factories import GuardrailFollowUpFactory

# Outside a transaction the pages are built by worker connections; inside one (a plain
# django_db test) on Django's own connection.
PATHS = [
    pytest.param(False, id="one-connection", marks=pytest.mark.django_db),
    pytest.param(True, id="read-ahead", marks=pytest.mark.django_db(transaction=True)),
]


def make_rows(count: int) -> list[GuardrailFollowUp]:
    """``count`` follow-ups, three to a timestamp, stored in another order than the keyset."""
    rows = [
        GuardrailFollowUpFactory.build(created_at=BASE_TIME + timedelta(seconds=index // 3))
        for index in reversed(range(count))
    ]
    return GuardrailFollowUp.objects.bulk_create(rows)


def pages(**options) -> list[list[str]]:
    return [
        text.decode().splitlines()
        for text, rows in text_pages(
            GuardrailFollowUp.objects.all(),
            line_sql="id::text",
            timestamp_field="created_at",
            id_kind=uuid.UUID,
            **options,
        )
    ]


def in_key_order(rows, *, descending: bool = False) -> list[str]:
    ordered = sorted(rows, key=lambda row: (row.created_at, row.id), reverse=descending)
    return [str(row.id) for row in ordered]


@pytest.mark.parametrize("read_ahead", PATHS)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(
    ("batch_size", "limit", "sizes"),
    [
        (10, None, [10, 10, 10]),  # an exact multiple: no empty page at the end
        (7, None, [7, 7, 7, 7, 2]),
        (7, 20, [7, 7, 6]),
        (10, 30, [10, 10, 10]),
        (50, None, [30]),
        (4, 3, [3]),
    ],
)
def test_every_row_once_in_key_order(read_ahead, descending, batch_size, limit, sizes):
    assert connection.in_atomic_block is not read_ahead
    rows = make_rows(30)
    start_after = in_key_order(rows, descending=descending)

    result = pages(batch_size=batch_size, limit=limit, start=None, descending=descending)

    assert [len(page) for page in result] == sizes
    assert [line for page in result for line in page] == start_after[: sum(sizes)]


@pytest.mark.parametrize("read_ahead", PATHS)
def test_pages_start_strictly_after_the_cursor(read_ahead):
    assert connection.in_atomic_block is not read_ahead
    rows = make_rows(12)
    ordered = sorted(rows, key=lambda row: (row.created_at, row.id))
    start = Cursor(ordered[4].created_at, str(ordered[4].id))  # inside a group of ties

    result = pages(batch_size=5, start=start)

    assert [line for page in result for line in page] == in_key_order(ordered[5:])


@pytest.mark.django_db(transaction=True)
def test_a_row_committed_inside_a_planned_page_is_not_lost(monkeypatch):
    """A late transaction commits a row into the key range of a page whose end was found
    already: that row arrives, and so does the row it would have pushed out of the page."""
    rows = make_rows(30)
    late = GuardrailFollowUpFactory.build(
        created_at=BASE_TIME + timedelta(seconds=1, milliseconds=1)
    )
    found_ends = textpages._Pages.next_page
    calls = []

    def next_page(self, start, *, size):
        end = found_ends(self, start, size=size)
        calls.append(start)
        if len(calls) == 1:
            late.save()  # autocommit: visible to the worker connections at once
        return end

    monkeypatch.setattr(textpages._Pages, "next_page", next_page)

    result = pages(batch_size=10, start=None)

    assert all(len(page) <= 10 for page in result)
    assert [line for page in result for line in page] == in_key_order([*rows, late])
