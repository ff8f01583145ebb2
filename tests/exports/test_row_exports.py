"""Row exporters with the stdout and file sinks and the file cursor store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from exports.models import ExportRun
from exports.services import ExportFailed, ExportOptions, export_feed, export_run
from reports.models import GuardrailFollowUp
from reports.rows import FOLLOW_UP_COLUMNS, follow_up_row
from tests.exports.conftest import BASE_TIME, expected_order, make_follow_ups, read_ndjson

pytestmark = pytest.mark.django_db


def run_command(name: str, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue()


def test_stdout_rows_are_the_api_row_shape_oldest_first():
    rows = make_follow_ups(7, per_timestamp=3)

    output = run_command("export_guardrail_followups", "--limit", "5")

    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["followUpId"] for line in lines] == expected_order(rows)[:5]
    first = GuardrailFollowUp.objects.values(*FOLLOW_UP_COLUMNS).get(id=lines[0]["followUpId"])
    assert lines[0] == follow_up_row(first)


def test_provider_filter_and_file_sink_with_cursor_store(tmp_path):
    rows = make_follow_ups(30, per_timestamp=4)
    target, cursor_file = tmp_path / "out" / "guardrail.ndjson", tmp_path / "c" / "cursor.json"
    args = [
        "--provider-id",
        "prov-1",
        "--sink",
        "file",
        "--file-path",
        str(target),
        "--cursor-store",
        "file",
        "--cursor-store-path",
        str(cursor_file),
        "--batch-size",
        "3",
    ]

    run_command("export_guardrail_followups", "--limit", "4", *args)
    checkpoint = json.loads(cursor_file.read_text())
    run_command("export_guardrail_followups", *args)

    wanted = [r for r in rows if r.provider_id == "prov-1"]
    assert [row["followUpId"] for row in read_ndjson(target)] == expected_order(wanted)
    assert checkpoint["rows"] == 4
    assert checkpoint["cursor"].count("~") == 1  # the tie-breaking id is kept
    final = json.loads(cursor_file.read_text())
    assert final["rows"] == len(wanted) - 4
    assert set(final) >= {"cursor", "rows", "updatedAt"}


def test_a_rerun_with_nothing_new_sends_nothing_and_records_no_data(tmp_path, settings):
    make_follow_ups(3)
    args = ["--sink", "file", "--file-path", str(tmp_path / "f.ndjson"), "--cursor-store", "file"]
    run_command("export_guardrail_followups", *args)
    run_command("export_guardrail_followups", *args)

    assert len(read_ndjson(tmp_path / "f.ndjson")) == 3
    outcomes = list(ExportRun.objects.order_by("id").values_list("outcome", "rows", "trigger"))
    assert outcomes == [("succeeded", 3, "schedule"), ("no_data", 0, "schedule")]
    # Without --cursor-store-path the feed's configured file is used, as the site's runs do.
    checkpoint = json.loads(Path(settings.GUARDRAIL_EXPORT_CURSOR_PATH).read_text())
    assert checkpoint["rows"] == 0
    assert not (tmp_path / "guardrail_followups_cursor.json").exists()


def test_cron_and_run_export_now_share_one_checkpoint(tmp_path, settings):
    """A command run with ``--cursor-store file`` and the site's own run (the worker behind
    "Run export now") resume from the same file: neither re-sends what the other sent."""
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "site.ndjson")
    first = make_follow_ups(3)
    cron = [
        "--sink",
        "file",
        "--file-path",
        str(tmp_path / "cron.ndjson"),
        "--cursor-store",
        "file",
    ]
    run_command("export_guardrail_followups", *cron)

    later = make_follow_ups(2, start=BASE_TIME.replace(month=2))
    button = export_run(feed="guardrail_followups")
    assert button.rows == 2
    assert [r["followUpId"] for r in read_ndjson(tmp_path / "site.ndjson")] == expected_order(later)
    run_command("export_guardrail_followups", *cron)
    assert [r["followUpId"] for r in read_ndjson(tmp_path / "cron.ndjson")] == expected_order(first)


def test_explicit_cursor_starts_strictly_after_it_even_inside_a_tie():
    rows = make_follow_ups(9, per_timestamp=9)
    order = expected_order(rows)
    tied = GuardrailFollowUp.objects.get(id=order[3])
    cursor = f"{tied.created_at.isoformat()}~{tied.id}"

    output = run_command("export_guardrail_followups", "--cursor", cursor)

    assert [json.loads(line)["followUpId"] for line in output.splitlines()] == order[4:]


def test_malformed_cursor_fails_the_run_and_says_why():
    with pytest.raises(CommandError, match="not an ISO-8601 timestamp"):
        run_command("export_guardrail_followups", "--cursor", "yesterday")
    run = ExportRun.objects.get()
    assert run.outcome == "failed" and "ISO-8601" in run.error and run.finished_at


def test_export_run_history_records_cursors_rows_and_trigger(tmp_path, alice):
    make_follow_ups(5)
    options = ExportOptions(sink="file", file_path=str(tmp_path / "x.ndjson"), cursor_store="file")

    first = export_feed(feed="guardrail_followups", options=options, trigger="manual")
    make_follow_ups(2, start=first.started_at.replace(year=2026, month=2))
    second = export_feed(feed="guardrail_followups", options=options, trigger="api")

    first.refresh_from_db()
    assert (first.trigger, first.outcome, first.rows, first.sink) == (
        "manual",
        "succeeded",
        5,
        "file",
    )
    assert first.cursor_before is None and first.started_at <= first.finished_at
    assert second.cursor_before == first.cursor_after
    assert second.rows == 2 and second.cursor_after > first.cursor_after


def test_segments_export_uses_the_segment_row_shape(django_db_setup):
    from telemetry import services as telemetry_services

    telemetry_services.onboarding_event_record(
        order_id="8e0f3c0e-0000-4000-8000-000000000001",
        event_type="journey_started",
        metadata={
            "pricing_experiment_segment": [
                {"slug": "spring-offer", "variantKey": "control", "isControl": True},
                {"slug": "bundle-anchor", "variantKey": "anchor-3pack"},
            ]
        },
    )

    output = run_command("export_onboarding_pricing_segments")

    lines = [json.loads(line) for line in output.splitlines()]
    assert [(row["slug"], row["variantKey"]) for row in lines] == [
        ("spring-offer", "control"),
        ("bundle-anchor", "anchor-3pack"),
    ]
    assert set(lines[0]) >= {"eventId", "journeyId", "orderId", "recordedAt", "isControl"}


def test_offer_events_csv_within_lookback(tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    from telemetry.models import CheckoutOfferEvent

    now = timezone.now()
    CheckoutOfferEvent.objects.create(
        offer_slug="old", event_type="impression", recorded_at=now - timedelta(days=20)
    )
    CheckoutOfferEvent.objects.create(
        offer_slug="=cmd()",
        event_type="cta_click",
        metadata={"cta": "add"},
        recorded_at=now - timedelta(days=2),
    )
    target = tmp_path / "offers.csv"

    run_command(
        "export_offer_events",
        "--lookback-days",
        "14",
        "--format",
        "csv",
        "--file-path",
        str(target),
    )

    lines = target.read_text().splitlines()
    assert lines[0].startswith("event_id,offer_slug,event_type")  # the data-lake names
    assert len(lines) == 2
    assert "'=cmd()" in lines[1]  # a spreadsheet must not run it as a formula
    assert '"{""cta"":""add""}"' in lines[1]


def test_csv_cannot_go_to_a_webhook():
    with pytest.raises(CommandError, match="csv"):
        run_command(
            "export_offer_events",
            "--format",
            "csv",
            "--sink",
            "webhook",
            "--webhook-url",
            "http://127.0.0.1:9/",
        )


def test_service_failure_carries_the_run():
    with pytest.raises(ExportFailed) as caught:
        export_feed(feed="guardrail_followups", options=ExportOptions(sink="file"))
    assert caught.value.run.outcome == "failed"
    assert "--file-path" in caught.value.run.error


def test_offer_metadata_beyond_64_bit_integers_still_exports(tmp_path):
    from telemetry.models import CheckoutOfferEvent

    CheckoutOfferEvent.objects.create(
        offer_slug="bundle", event_type="impression", metadata={"cartValueMicros": 2**70}
    )
    target = tmp_path / "offers.ndjson"
    run_command("export_offer_events", "--lookback-days", "1", "--file-path", str(target))
    [line] = [json.loads(line) for line in target.read_text().splitlines()]
    assert line["metadata"] == {"cartValueMicros": 2**70}


def test_the_file_sink_writes_to_dev_null_for_a_dry_run():
    make_follow_ups(3)
    run_command("export_guardrail_followups", "--sink", "file", "--file-path", "/dev/null")
    assert ExportRun.objects.get().rows == 3
