"""Exports exact and immediate: a committed row is in the next run, a late commit is never
lost, whatever the transaction's length, and a run says what it held back and why
(smplat/watermark.py)."""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import connection

from reports.services import follow_up_record
from smplat.watermark import commit_watermark
from tests.exports.conftest import make_follow_ups, read_ndjson
from tests.exports.test_consistency import INSERT, export, other_connection

pytestmark = pytest.mark.django_db(transaction=True)


def exported(tmp_path) -> list[str]:
    path = tmp_path / "out.ndjson"
    return [row["followUpId"] for row in read_ndjson(path)] if path.exists() else []


@pytest.mark.parametrize("open_seconds", [10, 30])
def test_a_transaction_open_across_runs_loses_no_row_and_blocks_no_older_one(
    tmp_path, settings, open_seconds
):
    """The fixed lag of 5 s lost this row (the runs after 5 s passed its timestamp while it
    was uncommitted); the watermark holds exactly the rows after the open transaction, for
    10 s (the issue's test against the old code) and 30 s alike."""
    settings.EXPORT_SAFETY_LAG_SECONDS = 5.0  # the old default: it no longer decides
    old = make_follow_ups(2)  # committed long ago: never waits for anything
    late, newer = uuid.uuid4(), uuid.uuid4()
    writer = other_connection()
    summaries = []
    try:
        writer.execute(INSERT, [late])  # timestamped by the database, not committed
        with other_connection() as quick:
            quick.execute(INSERT, [newer])
            quick.commit()
        opened = time.monotonic()
        last_run = opened
        while time.monotonic() - opened < open_seconds:
            last_run = time.monotonic()
            summaries.append(export(tmp_path))
            # Only what was committed before the open transaction started is out.
            assert sorted(exported(tmp_path)) == sorted(str(row.id) for row in old)
            time.sleep(open_seconds / 10)
        writer.commit()
    finally:
        writer.close()
    export(tmp_path)

    ids = exported(tmp_path)
    assert ids[2:] == [str(late), str(newer)]
    assert len(ids) == len(set(ids)) == 4
    # Runs went on well past the old 5 s lag (which lost the row at the 6th run) while the
    # transaction stayed open, however slow the machine made each run.
    assert len(summaries) >= 3 and last_run - opened >= open_seconds * 0.6
    assert "1 newer row waits for a transaction open since" in summaries[-1]


def test_a_row_is_exported_by_the_run_right_after_its_commit(tmp_path, settings):
    """No fixed delay: the runbook's dry run (record, then export at once) shows the rows."""
    settings.EXPORT_SAFETY_LAG_SECONDS = 5.0  # the old fixed lag: it no longer applies
    recorded = [
        follow_up_record(provider_id="prov-now", provider_name="Now", action="pause")
        for _ in range(3)
    ]
    committed = time.monotonic()

    summary = export(tmp_path)

    # Out within the old lag: a fixed 5 s delay would have exported none of them.
    assert time.monotonic() - committed < 4
    assert sorted(exported(tmp_path)) == sorted(str(f.id) for f in recorded)
    assert "3 rows" in summary and "wait" not in summary


def test_recorded_rows_are_timestamped_by_the_database_inside_their_transaction():
    """The watermark's premise: no committed row is older than its transaction's start."""
    follow_up = follow_up_record(provider_id="prov-db", provider_name="Db", action="resume")
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        (database_now,) = cursor.fetchone()
    assert follow_up.created_at <= database_now
    assert follow_up.created_at.tzinfo is not None


def test_the_api_never_hands_out_a_cursor_a_late_commit_falls_behind(api_client):
    make_follow_ups(2)
    late, newer = uuid.uuid4(), uuid.uuid4()
    writer = other_connection()
    try:
        writer.execute(INSERT, [late])
        with other_connection() as quick:
            quick.execute(INSERT, [newer])
            quick.commit()
        page = api_client.get("/api/v1/reporting/guardrails/followups?limit=1").json()
        cursor = page["nextCursor"]
        rest = api_client.get(f"/api/v1/reporting/guardrails/followups?cursor={cursor}").json()
        assert len(page["followUps"]) == len(rest["followUps"]) == 1  # the two old rows only
        resume = rest["followUps"][-1]["createdAt"]
        writer.commit()
    finally:
        writer.close()

    after = api_client.get(f"/api/v1/reporting/guardrails/followups?cursor={resume}").json()
    assert [row["followUpId"] for row in after["followUps"]] == [str(late), str(newer)]


def test_where_other_sessions_cannot_be_seen_the_fixed_lag_applies(settings):
    """A role without pg_read_all_stats sees "<insufficient privilege>" for other users'
    sessions: their transactions could hold rows, so the watermark falls back to the lag."""
    role = f"smplat_blind_{uuid.uuid4().hex[:8]}"
    params = connection.get_connection_params()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        import psycopg

        holder = other_connection()  # another user's open transaction
        holder.execute("SELECT 1")
        wanted = {k: params[k] for k in ("dbname", "host", "port") if params.get(k)}
        with psycopg.connect(**wanted, user=role, autocommit=True) as blind:
            mark = commit_watermark(30, using=blind)
        holder.rollback()  # its transaction ends when this returns (a close only asks)
        holder.close()
        seeing = commit_watermark(30)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP ROLE "{role}"')

    assert "not visible to this database role" in mark.fallback
    assert (mark.now - mark.at).total_seconds() >= 30
    assert seeing.fallback == "" and (seeing.now - seeing.at).total_seconds() < 1
