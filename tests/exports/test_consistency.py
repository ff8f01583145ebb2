"""Rows that commit late are not skipped, and two runs of one feed never overlap."""

from __future__ import annotations

import io
import time
import uuid

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from exports.locks import FeedBusy, lock_key
from exports.models import ExportRun
from exports.services import ExportOptions, export_feed, export_run, export_run_enqueue
from tests.exports.conftest import make_follow_ups, read_ndjson


def other_connection() -> psycopg.Connection:
    """A second session on the test database, as another process would have."""
    # Django's own connection parameters: TCP or the embedded server's Unix socket alike.
    params = connection.get_connection_params()
    wanted = ("dbname", "user", "password", "host", "port")
    return psycopg.connect(**{k: params[k] for k in wanted if params.get(k)}, autocommit=False)


INSERT = """
    INSERT INTO reports_guardrailfollowup (id, provider_id, provider_name, action, created_at)
    VALUES (%s, 'prov-late', 'Late Provider', 'pause', clock_timestamp())
"""


def export(tmp_path) -> str:
    """One run to ``out.ndjson`` with the feed's cursor file, as cron runs it; its summary."""
    err = io.StringIO()
    call_command(
        "export_guardrail_followups",
        "--sink",
        "file",
        "--file-path",
        str(tmp_path / "out.ndjson"),
        "--cursor-store",
        "file",
        stderr=err,
    )
    return err.getvalue()


def exported_ids(tmp_path) -> list[str]:
    return [row["followUpId"] for row in read_ndjson(tmp_path / "out.ndjson")]


@pytest.mark.django_db(transaction=True)
def test_a_row_committed_after_a_run_passed_its_timestamp_still_arrives(tmp_path, settings):
    settings.EXPORT_SAFETY_LAG_SECONDS = 1.0  # the fallback; the watermark needs no wait
    make_follow_ups(2)  # long committed
    late, early_committed = uuid.uuid4(), uuid.uuid4()
    writer = other_connection()
    try:
        writer.execute(INSERT, [late])  # timestamped now, not committed yet
        with other_connection() as quick:  # a newer row that commits at once
            quick.execute(INSERT, [early_committed])
            quick.commit()

        export(tmp_path)  # runs while the late row's transaction is still open

        writer.commit()
    finally:
        writer.close()
    export(tmp_path)

    ids = exported_ids(tmp_path)
    assert str(late) in ids and str(early_committed) in ids
    assert len(ids) == len(set(ids)) == 4


@pytest.mark.django_db(transaction=True)
def test_without_any_safety_lag_the_commit_watermark_still_keeps_that_row(tmp_path, settings):
    """With the fixed lag switched off (the code before the watermark lost this row: the
    run passed its timestamp while its transaction was open), the open transaction holds
    the run back: the newer committed row waits, and both arrive once it commits."""
    settings.EXPORT_SAFETY_LAG_SECONDS = 0
    late, early_committed = uuid.uuid4(), uuid.uuid4()
    writer = other_connection()
    try:
        writer.execute(INSERT, [late])
        with other_connection() as quick:
            quick.execute(INSERT, [early_committed])
            quick.commit()
        export(tmp_path)
        assert exported_ids(tmp_path) == []  # held back behind the open transaction
        writer.commit()
    finally:
        writer.close()
    export(tmp_path)

    assert exported_ids(tmp_path) == [str(late), str(early_committed)]


@pytest.mark.django_db(transaction=True)
def test_a_second_run_of_a_feed_is_refused_and_exits_non_zero(tmp_path):
    make_follow_ups(3)
    holder = other_connection()
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [lock_key("guardrail_followups")])

        with pytest.raises(CommandError, match="already being exported"):
            export(tmp_path)
        queued = export_run_enqueue(feed="guardrail_followups", trigger="manual")
        with pytest.raises(FeedBusy):
            export_run(feed="guardrail_followups", run=queued)
        # Another feed is not blocked by it.
        call_command("export_offer_events", stdout=io.StringIO(), stderr=io.StringIO())
    finally:
        holder_pid = holder.info.backend_pid
        holder.close()

    queued.refresh_from_db()
    assert queued.outcome == "failed" and "already being exported" in queued.error
    assert not (tmp_path / "out.ndjson").exists()
    # The lock goes with the other session, once its server process has exited (closing the
    # connection only asks it to).
    _wait_until_gone(holder_pid)
    export(tmp_path)
    assert len(exported_ids(tmp_path)) == 3
    assert ExportRun.objects.filter(feed="guardrail_followups", outcome="succeeded").count() == 1


@pytest.mark.django_db
def test_export_run_uses_the_feeds_settings(tmp_path, settings, httpserver):
    """What the site's "Run export now" calls in the background."""
    settings.GUARDRAIL_EXPORT_SINK = "webhook"
    settings.ANALYTICS_GUARDRAIL_WEBHOOK = httpserver.url_for("/hook")
    settings.GUARDRAIL_EXPORT_CURSOR_PATH = str(tmp_path / "cursor.json")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    make_follow_ups(4)

    run = export_run_enqueue(feed="guardrail_followups", trigger="manual")
    assert run.outcome == "queued"
    finished = export_run(feed="guardrail_followups", trigger="manual", run=run)

    assert finished.pk == run.pk
    assert (finished.outcome, finished.rows, finished.trigger) == ("succeeded", 4, "manual")
    assert finished.finished_at <= timezone.now()
    assert (tmp_path / "cursor.json").exists()
    assert len(httpserver.log) == 1


@pytest.mark.django_db
def test_sigterm_stops_after_the_batch_in_flight(tmp_path):
    make_follow_ups(10)
    stops = iter([False, True])
    with pytest.raises(Exception, match="stopped by a signal after 6 rows"):
        export_feed(
            feed="guardrail_followups",
            options=ExportOptions(
                sink="file",
                file_path=str(tmp_path / "out.ndjson"),
                cursor_store="file",
                batch_size=3,
            ),
            should_stop=lambda: next(stops),
        )
    assert len(exported_ids(tmp_path)) == 6
    run = ExportRun.objects.get()
    assert run.outcome == "failed" and run.rows == 6


@pytest.mark.django_db(transaction=True)
def test_a_second_telemetry_run_is_refused_too(settings, httpserver):
    settings.QUICK_ORDER_EXPORT_URL = httpserver.url_for("/export")
    holder = other_connection()
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [lock_key("quick_order_telemetry")])
        with pytest.raises(CommandError, match="already being exported"):
            call_command("export_quick_order_telemetry", stderr=io.StringIO())
    finally:
        holder.close()
    assert httpserver.log == []  # refused before downloading anything


def _wait_until_gone(pid: int, deadline: float = 10.0) -> None:
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if not cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError(f"the session of pid {pid} did not end within {deadline} s")
