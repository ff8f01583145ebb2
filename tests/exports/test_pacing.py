"""Row exporters give way to the database's other clients (smplat/pacing.py): while another
session is at work they sleep EXPORT_NICE_RATIO times their database work, build pages in
slices, and still deliver the same bytes in the same batches; alone, or beside sessions that
are only connected, they run without a pause."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from exports.models import ExportRun
from exports.services import ExportOptions, export_feed
from smplat import pacing
from telemetry.models import CheckoutOfferEvent
from tests.exports.conftest import BASE_TIME, expected_order, make_follow_ups, read_ndjson

pytestmark = pytest.mark.django_db

GAVE_WAY = "gave way to other database clients"

READ_AHEAD = [
    pytest.param(False, id="one-connection"),
    pytest.param(True, id="read-ahead", marks=pytest.mark.django_db(transaction=True)),
]


def _connect(name: str = "storefront-capture") -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params["application_name"] = name
    return psycopg.connect(**params, autocommit=True)


@pytest.fixture
def busy_client(request):
    """Another client of the database, in one statement after another while the test
    runs (a web process serving capture; or, with ``indirect`` parametrizing, another
    application)."""
    name = getattr(request, "param", "storefront-capture")
    stop = threading.Event()
    statements = []

    def work() -> None:
        with _connect(name) as other:
            while not stop.is_set():
                # Long statements: active nearly always, even when a loaded machine is slow to
                # send the next one (a probe between two short ones saw nobody at work).
                other.execute("SELECT pg_sleep(0.3)")
                statements.append(1)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while not statements:  # at work before the export starts
        time.sleep(0.01)
    yield
    stop.set()
    thread.join(timeout=5)


@pytest.fixture
def sliced_small(monkeypatch, settings):
    """Slices of 3 rows, so 25 rows in batches of 10 are built in several slices each."""
    monkeypatch.setattr(pacing, "SLICE_ROWS", 3)
    settings.EXPORT_NICE_RATIO = 1


def _gave_way(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if GAVE_WAY in record.getMessage()]


def _export(path: Path) -> None:
    export_feed(
        feed="guardrail_followups",
        options=ExportOptions(sink="file", file_path=str(path), batch_size=10),
    )


@pytest.mark.parametrize("read_ahead", READ_AHEAD)
def test_beside_a_busy_client_the_export_gives_way_and_delivers_the_same_bytes(
    tmp_path, caplog, sliced_small, busy_client, read_ahead
):
    assert connection.in_atomic_block is not read_ahead
    rows = make_follow_ups(25, per_timestamp=2)
    caplog.set_level(logging.INFO, logger="exports.services")

    _export(tmp_path / "paced.ndjson")

    assert [row["followUpId"] for row in read_ndjson(tmp_path / "paced.ndjson")] == expected_order(
        rows
    )
    said = _gave_way(caplog)
    assert len(said) == 1 and "EXPORT_NICE_RATIO=1" in said[0]
    # The batches are the configured ones, not the slices: 10, 10 and 5 rows.
    run = ExportRun.objects.get(feed="guardrail_followups")
    assert (run.rows, run.batches) == (25, 3)


@pytest.mark.parametrize("read_ahead", READ_AHEAD)
def test_the_slices_join_into_the_bytes_an_export_without_giving_way_writes(
    tmp_path, settings, caplog, sliced_small, busy_client, read_ahead
):
    make_follow_ups(25, per_timestamp=3)
    caplog.set_level(logging.INFO, logger="exports.services")
    settings.EXPORT_NICE_RATIO = 0
    _export(tmp_path / "alone.ndjson")
    assert not _gave_way(caplog)
    settings.EXPORT_NICE_RATIO = 1
    _export(tmp_path / "paced.ndjson")
    assert _gave_way(caplog)
    assert (tmp_path / "paced.ndjson").read_bytes() == (tmp_path / "alone.ndjson").read_bytes()


def test_sessions_only_connected_or_holding_an_old_transaction_do_not_slow_it(
    tmp_path, caplog, settings
):
    make_follow_ups(12)
    settings.EXPORT_NICE_RATIO = 4
    caplog.set_level(logging.INFO, logger="exports.services")
    with _connect() as idle, _connect() as in_transaction:
        idle.execute("SELECT 1")
        in_transaction.autocommit = False
        in_transaction.execute("SELECT 1")  # opens a transaction, then waits in it
        time.sleep(1.2)  # the transaction's last statement is over a second old
        _export(tmp_path / "alone.ndjson")
        in_transaction.rollback()
    assert len(read_ndjson(tmp_path / "alone.ndjson")) == 12
    assert not _gave_way(caplog)


def test_a_ratio_of_zero_never_gives_way(tmp_path, caplog, settings, busy_client):
    make_follow_ups(12)
    settings.EXPORT_NICE_RATIO = 0
    caplog.set_level(logging.INFO, logger="exports.services")
    _export(tmp_path / "out.ndjson")
    assert len(read_ndjson(tmp_path / "out.ndjson")) == 12
    assert not _gave_way(caplog)


def test_the_row_by_row_feeds_give_way_too(tmp_path, caplog, settings, busy_client):
    CheckoutOfferEvent.objects.bulk_create(
        CheckoutOfferEvent(
            offer_slug=f"offer-{index}", event_type="impression", recorded_at=BASE_TIME
        )
        for index in range(7)
    )
    settings.EXPORT_NICE_RATIO = 1
    caplog.set_level(logging.INFO, logger="exports.services")
    export_feed(
        feed="offer_events",
        options=ExportOptions(sink="file", file_path=str(tmp_path / "offers.ndjson"), batch_size=3),
    )
    assert len(read_ndjson(tmp_path / "offers.ndjson")) == 7
    assert _gave_way(caplog)


@pytest.mark.parametrize("busy_client", [pacing.EXPORTER_APPLICATION_NAME], indirect=True)
def test_another_exporter_at_work_does_not_make_it_give_way(
    tmp_path, caplog, settings, busy_client, monkeypatch
):
    """Two exports at once each saw the other at work and both slowed down five times."""
    make_follow_ups(12)
    settings.EXPORT_NICE_RATIO = 4
    caplog.set_level(logging.INFO, logger="exports.services")
    names = []
    busy = pacing.Pacer.busy

    def looking(self):  # what this exporter's own session is called when it looks
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('application_name')")
            names.append(cursor.fetchone()[0])
        return busy(self)

    monkeypatch.setattr(pacing.Pacer, "busy", looking)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('application_name')")
        (before,) = cursor.fetchone()

    _export(tmp_path / "out.ndjson")

    assert len(read_ndjson(tmp_path / "out.ndjson")) == 12
    assert not _gave_way(caplog)
    assert names and set(names) == {pacing.EXPORTER_APPLICATION_NAME}
    with connection.cursor() as cursor:  # the session's own name is back after the run
        cursor.execute("SELECT current_setting('application_name')")
        assert cursor.fetchone()[0] == before
