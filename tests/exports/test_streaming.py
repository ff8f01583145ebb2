"""Flat memory and progress output of long runs."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from django.core.management import call_command

from exports.progress import Progress
from exports.services import ExportOptions, export_feed
from tests.exports.conftest import make_follow_ups

pytestmark = pytest.mark.django_db


def peak_memory_of_export(tmp_path, name: str) -> int:
    tracemalloc.start()
    try:
        export_feed(
            feed="guardrail_followups",
            options=ExportOptions(sink="file", file_path=str(tmp_path / name), batch_size=200),
        )
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_rows(tmp_path):
    make_follow_ups(800, per_timestamp=3)
    small = peak_memory_of_export(tmp_path, "small.ndjson")
    make_follow_ups(3_200, per_timestamp=3)  # five times as many rows in all
    large = peak_memory_of_export(tmp_path, "large.ndjson")

    assert len((tmp_path / "large.ndjson").read_text().splitlines()) == 4_000
    # Whole-result reading would peak about five times higher; batches keep it level.
    assert large < small * 1.5, (small, large)


def test_progress_shows_rows_and_rate_on_a_terminal():
    stream = io.StringIO()
    progress = Progress(stream=stream, enabled=True)
    progress.update(1_500)
    progress.finish()
    assert "1,500 rows" in stream.getvalue() and "rows/s" in stream.getvalue()


def test_no_progress_when_stderr_is_not_a_terminal_but_a_summary():
    make_follow_ups(3)
    err = io.StringIO()
    call_command("export_guardrail_followups", stdout=io.StringIO(), stderr=err)
    (line,) = err.getvalue().splitlines()
    assert line.startswith("Guardrail follow-ups: 3 rows to stdout") and "\r" not in line


def test_quiet_with_verbosity_zero():
    make_follow_ups(1)
    err = io.StringIO()
    call_command("export_guardrail_followups", verbosity=0, stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""
