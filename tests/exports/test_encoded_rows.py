"""Rows PostgreSQL encodes itself are what the Python encoders wrote, on the text that breaks
naive encoders: the follow-up NDJSON of the exporter byte for byte, the experiment segment
CSV of the download routes cell for cell."""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import timedelta

import pytest
from django.db import connection

from exports.feeds import Batch
from exports.services import ExportOptions, export_feed
from reports.models import GuardrailFollowUp
from reports.rows import FOLLOW_UP_COLUMNS, follow_up_row
from smplat.csvcells import csv_safe
from smplat.cursors import format_timestamp
from smplat.ndjson import json_bytes, ndjson_line
from telemetry.models import (
    OnboardingJourney,
    OnboardingJourneyEvent,
    PricingExperimentSegment,
)
from telemetry.rows import SEGMENT_COLUMNS, SEGMENT_CSV_HEADER
from telemetry.selectors import SegmentFilters, experiment_segments_csv
from tests.exports.conftest import BASE_TIME
from tests.factories import GuardrailFollowUpFactory

pytestmark = pytest.mark.django_db

AWKWARD = [
    "plain",
    "",
    'a "quoted" word',
    "back\\slash \\n not a newline",
    "two\nlines",
    "carriage\rreturn",
    "tab\tinside",
    "=SUM(A1)",
    "+1",
    "-1",
    "@handle",
    "\tformula after a tab",
    "\rformula after a carriage return",
    "\n=formula after a line feed",
    "comma, inside",
    "ünïcødé «guillemets» 中文",
    "emoji 😀",
    "separators \u2028 \u2029 \ufeff",
    "controls \x01 \x08 \x0c \x1f \x7f",
    "</script> & /slash",
    "'already quoted",
    "ends with a newline\n",
]


# Outside a transaction pages are built by worker connections ahead of the writer
# (smplat/textpages.py); inside one (a plain django_db test) on Django's own connection.
READ_AHEAD = [
    pytest.param(False, id="one-connection"),
    pytest.param(True, id="read-ahead", marks=pytest.mark.django_db(transaction=True)),
]


@pytest.mark.parametrize("read_ahead", READ_AHEAD)
def test_exported_follow_up_lines_are_the_api_rows_byte_for_byte(tmp_path, read_ahead):
    assert connection.in_atomic_block is not read_ahead
    rows = []
    for index, text in enumerate(AWKWARD * 2):
        rows.append(
            GuardrailFollowUpFactory.build(
                provider_id=text or "p",
                provider_name=text,
                notes=None if index % 4 == 0 else text,
                platform_context_id=text if index % 2 else None,
                platform_context_label=None,
                platform_context_handle=text if index % 3 else None,
                platform_context_type=None if index % 5 else text,
                conversion_cursor=text if index % 2 else None,
                conversion_href=None if index % 2 else text,
                # Microseconds and ties: the cursor taken from a line must be exact.
                created_at=BASE_TIME + timedelta(microseconds=7 * (index // 2)),
            )
        )
    # Every context field NULL: platformContext is null, not an object of nulls.
    rows.append(
        GuardrailFollowUpFactory.build(
            platform_context_id=None,
            platform_context_label=None,
            platform_context_handle=None,
            platform_context_type=None,
        )
    )
    # Stored out of order: the file's order comes from the (created_at, id) keyset alone.
    random.Random(7).shuffle(rows)
    GuardrailFollowUp.objects.bulk_create(rows)
    target = tmp_path / "follow-ups.ndjson"

    run = export_feed(
        feed="guardrail_followups",
        options=ExportOptions(sink="file", file_path=str(target), batch_size=4),
    )

    expected = b"".join(
        ndjson_line(follow_up_row(values))
        for values in GuardrailFollowUp.objects.order_by("created_at", "id").values(
            *FOLLOW_UP_COLUMNS
        )
    )
    assert target.read_bytes() == expected
    assert run.rows == len(rows)
    last = GuardrailFollowUp.objects.order_by("-created_at", "-id").first()
    assert run.cursor_after == f"{format_timestamp(last.created_at)}~{last.id}"


def test_an_encoded_batch_gives_the_same_bytes_to_every_sink():
    rows = [{"a": 1, "b": "x\ny"}, {"a": 2, "b": None}]
    lines = b"".join(ndjson_line(row) for row in rows)
    encoded = Batch(
        feed="f", rows=None, lines=lines, first_position="1", last_position="2", checkpoint="2"
    )
    decoded = Batch(feed="f", rows=rows, first_position="1", last_position="2", checkpoint="2")

    assert len(encoded) == len(decoded) == 2
    assert encoded.ndjson() == decoded.ndjson() == lines
    assert encoded.envelope("followUps") == decoded.envelope("followUps")
    assert encoded.envelope("followUps") == json_bytes({"followUps": rows})
    assert encoded.row_dicts() == rows


def _expected_cells(rows: list[dict]) -> list[list[str]]:
    """The header and the cells the route wrote with Python's writer before PostgreSQL
    built the CSV: what a CSV reader must read back."""
    lines = [list(SEGMENT_CSV_HEADER)]
    for row in rows:
        cells = []
        for column in SEGMENT_COLUMNS:
            value = row[column]
            if column == "recorded_at":
                value = format_timestamp(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, uuid.UUID | int):
                value = str(value)
            cells.append(csv_safe(value) if value is not None else "")
        lines.append(cells)
    return lines


def _read(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(), newline="")))


@pytest.mark.parametrize("read_ahead", READ_AHEAD)
@pytest.mark.parametrize("descending", [False, True])
def test_segment_csv_reads_back_as_the_python_writers_cells(descending, read_ahead):
    assert connection.in_atomic_block is not read_ahead
    journey = OnboardingJourney.objects.create(order_id=uuid.uuid4(), order_number="SO-1")
    event = OnboardingJourneyEvent.objects.create(journey=journey, event_type="assigned")
    segments = [
        PricingExperimentSegment(
            event=event,
            position=index,
            journey_id=journey.id,
            order_id=journey.order_id,
            order_number=None if index % 5 == 0 else text,
            slug=text or "slug",
            variant_key=(text or "variant")[::-1],
            variant_name=None if index % 3 == 0 else text,
            is_control=index % 2 == 0,
            status=text,
            feature_flag_key=None if index % 2 else text,
            assignment_strategy=text[::-1],
            recorded_at=BASE_TIME + timedelta(microseconds=3 * (index // 2)),
        )
        for index, text in enumerate(AWKWARD * 2)
    ]
    random.Random(7).shuffle(segments)  # ids and the heap in another order than the keyset
    PricingExperimentSegment.objects.bulk_create(segments)
    order = ("-recorded_at", "-id") if descending else ("recorded_at", "id")
    rows = list(PricingExperimentSegment.objects.order_by(*order).values(*SEGMENT_COLUMNS))

    body = b"".join(
        experiment_segments_csv(filters=SegmentFilters(), descending=descending, batch_size=5)
    )

    # PostgreSQL quotes more cells than Python's writer did (quote_ident's rule: capitals,
    # spaces, punctuation; and a carriage return, which Python's writer left bare so that
    # its own reader could not read it back); every cell reads back the same.
    assert _read(body) == _expected_cells(rows)
