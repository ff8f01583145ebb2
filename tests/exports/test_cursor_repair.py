"""Rewind, backfill and reset of a feed's stored cursor (exports/cursor_repair.py and
``manage.py export_cursor``): the preview's count, the lock, the audit record, bad input."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from exports import cursor_repair
from exports.locks import lock_key
from exports.models import CursorChange, ExportRun
from exports.services import export_run
from tests.exports.conftest import make_follow_ups

pytestmark = pytest.mark.django_db
FEED = "guardrail_followups"


@pytest.fixture
def file_feed(settings, tmp_path):
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "out.ndjson")
    settings.GUARDRAIL_EXPORT_CURSOR_PATH = str(tmp_path / "cursor.json")
    settings.GUARDRAIL_EXPORT_CURSOR_S3_URI = ""
    return tmp_path


def _stored(tmp_path) -> str | None:
    return json.loads((tmp_path / "cursor.json").read_text())["cursor"]


def test_the_preview_counts_exactly_the_rows_the_next_run_sends_with_tied_timestamps(
    file_feed, alice
):
    rows = make_follow_ups(30, per_timestamp=3)  # ten instants, three rows each
    assert export_run(feed=FEED).rows == 30
    definition = cursor_repair.rewindable_feed(FEED)
    tied = sorted(rows, key=lambda r: (r.created_at, r.id))[12].created_at  # 5th instant

    target = cursor_repair.rewind_target(definition, at=tied)
    preview = cursor_repair.cursor_preview(feed=FEED, target=target)
    change = cursor_repair.cursor_change_apply(
        feed=FEED,
        target=target,
        reason="warehouse lost the morning",
        changed_by=alice,
        via="card",
        expected_from=preview.cursor_from,
    )
    run = export_run(feed=FEED)

    assert preview.rows == 18 and not preview.capped  # every row of that instant on
    assert run.rows == preview.rows
    assert run.cursor_before == target
    change.refresh_from_db()
    assert change.next_run == run
    assert (change.actor, change.via, change.reason) == (
        "alice",
        "card",
        "warehouse lost the morning",
    )
    assert (change.cursor_from, change.cursor_to, change.rows_to_resend) == (
        preview.cursor_from,
        target,
        18,
    )


def test_a_rewind_after_an_empty_run_does_not_make_the_feed_stuck(file_feed, alice, settings):
    """The rows a rewind puts behind the cursor wait for the next run; no false stuck alert."""
    from exports import registry
    from exports.health import health_check

    settings.EXPORT_ALERT_WEBHOOK_URL = ""
    settings.MONITOR_ALERT_WEBHOOK_URL = ""
    make_follow_ups(6)
    export_run(feed=FEED)
    assert export_run(feed=FEED).outcome == "no_data"  # the newest run found nothing new
    cursor_repair.cursor_change_apply(
        feed=FEED, target=None, reason="re-send all", changed_by=alice, via="card"
    )  # back to the beginning

    health = health_check(registry.feed(FEED)).health

    assert health.behind.count == 6
    assert health.state == "fresh", health.reason
    assert export_run(feed=FEED).rows == 6


def test_the_count_stops_at_the_cap(file_feed, settings):
    make_follow_ups(30)
    export_run(feed=FEED)
    settings.EXPORT_REWIND_COUNT_CAP = 10
    preview = cursor_repair.cursor_preview(feed=FEED, target=None)
    assert (preview.rows, preview.capped, preview.rows_text) == (10, True, "10+")


def test_a_rewind_is_refused_while_another_connection_holds_the_feed_lock(file_feed, alice):
    make_follow_ups(5)
    export_run(feed=FEED)
    before = _stored(file_feed)
    params = connection.get_connection_params()
    with psycopg.connect(
        **{k: v for k, v in params.items() if k in {"host", "port", "user", "dbname", "password"}},
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [lock_key(FEED)])  # a run in progress
        with pytest.raises(cursor_repair.CursorChangeRefused, match="is running"):
            cursor_repair.cursor_change_apply(
                feed=FEED, target=None, reason="backfill", changed_by=alice, via="card"
            )
    assert _stored(file_feed) == before
    assert not CursorChange.objects.exists()


def test_a_rewind_is_refused_while_a_run_is_queued(file_feed, alice):
    make_follow_ups(5)
    export_run(feed=FEED)
    queued = ExportRun.objects.create(feed=FEED, trigger="manual")
    with pytest.raises(cursor_repair.CursorChangeRefused, match=f"run #{queued.pk}.*queued"):
        cursor_repair.cursor_change_apply(
            feed=FEED, target=None, reason="backfill", changed_by=alice, via="card"
        )
    assert not CursorChange.objects.exists()


def test_a_second_submit_of_the_same_preview_changes_nothing(file_feed, alice):
    make_follow_ups(5)
    export_run(feed=FEED)
    preview = cursor_repair.cursor_preview(feed=FEED, target=None)
    apply = dict(feed=FEED, target=None, reason="backfill", changed_by=alice, via="card")
    cursor_repair.cursor_change_apply(**apply, expected_from=preview.cursor_from)
    with pytest.raises(cursor_repair.CursorChangeRefused, match="nothing changed"):
        cursor_repair.cursor_change_apply(**apply, expected_from=preview.cursor_from)
    assert CursorChange.objects.count() == 1


def test_bad_targets_are_refused_with_a_reason(file_feed):
    [row] = make_follow_ups(1)
    export_run(feed=FEED)
    definition = cursor_repair.rewindable_feed(FEED)
    future = timezone.now() + timedelta(days=1)
    with pytest.raises(cursor_repair.CursorChangeRefused, match="future"):
        cursor_repair.rewind_target(definition, at=future)
    with pytest.raises(cursor_repair.CursorChangeRefused, match="not a cursor"):
        cursor_repair.parse_target(definition, "yesterday-ish")
    with pytest.raises(cursor_repair.CursorChangeRefused, match="not a cursor"):
        cursor_repair.parse_target(definition, "2026-01-22T04:00:00Z~42")  # an offer event's id
    with pytest.raises(cursor_repair.CursorChangeRefused, match="another feed"):
        cursor_repair.parse_target(definition, f"2026-01-22T04:00:00Z~{uuid.uuid4()}")
    # Forward of the stored cursor would skip rows.
    with pytest.raises(cursor_repair.CursorChangeRefused, match="forward"):
        cursor_repair.cursor_preview(feed=FEED, target=timezone.now().isoformat())
    assert cursor_repair.parse_target(definition, f"{row.created_at.isoformat()}~{row.id}")


def test_export_cursor_shows_sets_and_resets_with_an_audit_record(file_feed):
    rows = sorted(make_follow_ups(6), key=lambda r: (r.created_at, r.id))
    export_run(feed=FEED)
    shown = StringIO()
    call_command("export_cursor", FEED, "--show", stdout=shown)
    assert shown.getvalue().strip() == _stored(file_feed)

    target = f"{rows[1].created_at.isoformat()}~{rows[1].id}"
    out = StringIO()
    call_command("export_cursor", FEED, "--set", target, "--reason", "receiver dropped", stdout=out)
    assert "re-sends 4 rows" in out.getvalue()
    call_command("export_cursor", FEED, "--reset", "--reason", "full backfill", stdout=out)
    assert _stored(file_feed) is None

    set_change, reset_change = CursorChange.objects.order_by("id")
    assert set_change.via == "command" and "@" in set_change.actor
    assert set_change.rows_to_resend == 4 and set_change.reason == "receiver dropped"
    assert (reset_change.cursor_to, reset_change.rows_to_resend) == (None, 6)


def test_export_cursor_refuses_without_a_reason_and_for_unknown_feeds(file_feed):
    make_follow_ups(2)
    export_run(feed=FEED)
    with pytest.raises(CommandError, match="reason is required"):
        call_command("export_cursor", FEED, "--reset")
    with pytest.raises(CommandError, match="no feed named"):
        call_command("export_cursor", "nope", "--show")
    with pytest.raises(CommandError, match="no cursor"):
        call_command("export_cursor", "quick_order_telemetry", "--show")
    assert not CursorChange.objects.exists()


def test_a_rewind_writes_the_s3_cursor_store_when_configured(file_feed, settings, s3, alice):
    settings.GUARDRAIL_EXPORT_CURSOR_S3_URI = f"s3://{s3.bucket}/cursors/guardrail.json"
    make_follow_ups(4)
    export_run(feed=FEED)
    cursor_repair.cursor_change_apply(
        feed=FEED, target=None, reason="backfill", changed_by=alice, via="card"
    )
    body = s3.get_object(Bucket=s3.bucket, Key="cursors/guardrail.json")["Body"].read()
    assert json.loads(body)["cursor"] is None
    assert export_run(feed=FEED).rows == 4


def test_a_cursor_change_is_in_the_site_audit_trail_too(file_feed, alice):
    """Who moved which feed's cursor, from where to where and why: the audit trail holds it
    beside run-now and key changes."""
    from smplat.audit.models import AuditEntry

    make_follow_ups(3)
    export_run(feed=FEED)
    cursor_repair.cursor_change_apply(
        feed="guardrail_followups",
        target=None,
        reason="warehouse lost a day",
        changed_by=alice,
        via="card",
        address="10.1.2.3",
    )
    entry = AuditEntry.objects.get(action="export.cursor_change")
    assert entry.target == "feed:guardrail_followups" and entry.actor_user == alice
    assert entry.details["reason"] == "warehouse lost a day" and entry.details["to"] is None
    assert entry.address == "10.1.2.3"
