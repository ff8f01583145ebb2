"""The telemetry exporters: the capture route's NDJSON (pytest-httpserver or the site itself
on live_server), S3 on moto's server, Slack on a local server."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest
import requests
from django.core.management import CommandError, call_command
from django.utils import timezone

from exports.models import ExportRun
from exports.status import status_read

pytestmark = pytest.mark.django_db

EXPORT_PATH = "/api/telemetry/quick-order/export"


def quick_order_line(name: str, index: int, **metadata) -> dict:
    return {
        "eventId": f"00000000-0000-4000-8000-{index:012d}",
        "sessionId": f"sess_{index // 2}",
        "eventName": name,
        "productId": "ig-followers-1k",
        "productTitle": "Instagram Followers - 1,000",
        "platformContext": "instagram",
        "recordedAt": f"2026-01-22T04:00:{index:02d}.000000Z",
        "metadata": metadata,
    }


def ndjson(lines: list[dict]) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


@pytest.fixture
def quick_order(settings, s3, httpserver):
    settings.QUICK_ORDER_EXPORT_URL = httpserver.url_for(EXPORT_PATH)
    settings.QUICK_ORDER_EXPORT_BUCKET = s3.bucket
    settings.QUICK_ORDER_EXPORT_S3_PREFIX = "telemetry"
    settings.QUICK_ORDER_EXPORT_STATUS_S3_URI = f"s3://{s3.bucket}/status/quick-order.json"
    settings.QUICK_ORDER_EXPORT_SLACK_WEBHOOK = httpserver.url_for("/slack")
    settings.CHECKOUT_API_KEY = "key-for-the-capture-route"
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    return settings


def run(command: str) -> str:
    err = io.StringIO()
    call_command(command, stderr=err)
    return err.getvalue()


def slack_messages(httpserver) -> list[str]:
    return [
        json.loads(request.get_data())["text"]
        for request, _ in httpserver.log
        if request.path == "/slack"
    ]


def test_quick_order_snapshot_lands_in_s3_with_status_metrics_and_one_slack_message(
    quick_order, s3, httpserver
):
    lines = [
        quick_order_line("quick_order.start", 0),
        quick_order_line("quick_order.complete", 1, outcome="paid"),
        quick_order_line("quick_order.start", 2),
        quick_order_line("quick_order.abort", 3, reason="price_changed"),
        quick_order_line("quick_order.start", 4),
        quick_order_line("quick_order.complete", 5),
    ]
    body = ndjson(lines)
    httpserver.expect_request(
        EXPORT_PATH, headers={"Authorization": "Bearer key-for-the-capture-route"}
    ).respond_with_data(
        body, content_type="application/x-ndjson", headers={"X-Quick-Order-Events": "6"}
    )

    before = timezone.now().astimezone(UTC)
    output = run("export_quick_order_telemetry")
    after = timezone.now().astimezone(UTC)

    (key,) = [
        o["Key"] for o in s3.list_objects_v2(Bucket=s3.bucket, Prefix="telemetry/")["Contents"]
    ]
    # The folder is the snapshot's own UTC day (a run across midnight may take either).
    folders = "|".join(re.escape(f"{day:%Y/%m/%d}") for day in {before.date(), after.date()})
    assert re.fullmatch(rf"telemetry/quick-order/({folders})/\d{{8}}T\d{{12}}Z\.ndjson", key)
    stamp = key.rsplit("/", 1)[1][:8]
    assert key.split("/")[2:5] == [stamp[:4], stamp[4:6], stamp[6:8]]
    assert s3.get_object(Bucket=s3.bucket, Key=key)["Body"].read().decode() == body
    status = status_read(quick_order.QUICK_ORDER_EXPORT_STATUS_S3_URI)
    assert status["events"] == 6
    assert status["metrics"] == {
        "startCount": 3,
        "abortCount": 1,
        "completeCount": 2,
        "completionRate": 66.7,
    }
    assert datetime.fromisoformat(status["syncedAt"]) <= timezone.now()
    assert "workflowUrl" in status and status["workflowUrl"] is None
    assert requests.get(status["downloadUrl"], timeout=5).text == body
    run_row = ExportRun.objects.get()
    assert (run_row.feed, run_row.outcome, run_row.rows) == (
        "quick_order_telemetry",
        "succeeded",
        6,
    )
    (message,) = slack_messages(httpserver)
    assert "6 events" in message and key in message
    assert "6 events uploaded" in output


def test_a_404_means_no_events_yet_and_exits_zero(quick_order, s3, httpserver):
    httpserver.expect_request(EXPORT_PATH).respond_with_json(
        {"error": {"code": "not_found"}}, status=404
    )

    output = run("export_quick_order_telemetry")

    assert "no events yet" in output
    assert "Contents" not in s3.list_objects_v2(Bucket=s3.bucket)
    assert ExportRun.objects.get().outcome == "no_data"
    (message,) = slack_messages(httpserver)
    assert "No events yet" in message


def test_unknown_metrics_are_null_not_absent(quick_order, httpserver):
    httpserver.expect_request(EXPORT_PATH).respond_with_data(
        ndjson([quick_order_line("quick_order.abort", 1, reason="closed_modal")])
    )
    run("export_quick_order_telemetry")
    metrics = status_read(quick_order.QUICK_ORDER_EXPORT_STATUS_S3_URI)["metrics"]
    assert metrics == {"startCount": 0, "abortCount": 1, "completeCount": 0, "completionRate": None}


def test_guardrail_workflow_snapshot_metrics_and_local_status(settings, s3, httpserver, tmp_path):
    settings.GUARDRAIL_WORKFLOW_EXPORT_URL = httpserver.url_for("/wf")
    settings.GUARDRAIL_WORKFLOW_EXPORT_BUCKET = s3.bucket
    settings.GUARDRAIL_WORKFLOW_EXPORT_STATUS_S3_URI = str(tmp_path / "wf-status.json")
    settings.GUARDRAIL_WORKFLOW_EXPORT_WORKFLOW_URL = "https://ci.example.org/wf"
    events = [
        {
            "eventId": "a",
            "workflowAction": "attachment.upload",
            "providerId": "p1",
            "providerName": "One",
            "metadata": {"sizeBytes": 1000},
            "recordedAt": "2026-01-22T04:00:00Z",
        },
        {
            "eventId": "b",
            "workflowAction": "attachment.upload",
            "providerId": "p1",
            "providerName": "One",
            "metadata": {"sizeBytes": 500},
            "recordedAt": "2026-01-22T05:00:00Z",
        },
        {
            "eventId": "c",
            "workflowAction": "note.update",
            "providerId": "p2",
            "providerName": "Two",
            "metadata": {},
            "recordedAt": "2026-01-22T04:30:00Z",
        },
    ]
    httpserver.expect_request("/wf").respond_with_data(ndjson(events))

    run("export_guardrail_workflow_telemetry")

    status = json.loads((tmp_path / "wf-status.json").read_text())
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=s3.bucket)["Contents"]]
    assert key.startswith("guardrail-workflow/")
    assert status["events"] == 3 and status["workflowUrl"] == "https://ci.example.org/wf"
    assert status["metrics"]["actionCounts"] == {"attachment.upload": 2, "note.update": 1}
    assert status["metrics"]["attachmentTotals"] == {"uploads": 2, "bytes": 1500}
    assert status["metrics"]["providerActivity"][0] == {
        "providerId": "p1",
        "providerName": "One",
        "events": 2,
        "lastActionAt": "2026-01-22T05:00:00Z",
    }


def test_missing_bucket_fails_clearly(settings, httpserver):
    settings.QUICK_ORDER_EXPORT_URL = httpserver.url_for(EXPORT_PATH)
    settings.QUICK_ORDER_EXPORT_BUCKET = ""
    with pytest.raises(CommandError, match="QUICK_ORDER_EXPORT_BUCKET is not set"):
        run("export_quick_order_telemetry")
    assert ExportRun.objects.get().outcome == "failed"


def test_capture_route_errors_are_retried_then_fail(quick_order, httpserver, settings):
    settings.EXPORT_RETRY_ATTEMPTS = 2
    httpserver.expect_request(EXPORT_PATH).respond_with_data("boom", status=500)
    with pytest.raises(CommandError, match="500"):
        run("export_quick_order_telemetry")
    assert len([r for r, _ in httpserver.log if r.path == EXPORT_PATH]) == 2
    (message,) = slack_messages(httpserver)
    assert "failed" in message


@pytest.mark.django_db(transaction=True)
def test_end_to_end_through_the_sites_own_capture_route(live_server, settings, s3, tmp_path):
    """The exporter reads the site's real export route, authenticated with the API key."""
    from telemetry.models import QuickOrderEvent

    for index, name in enumerate(
        ["quick_order.start", "quick_order.complete", "quick_order.start"]
    ):
        QuickOrderEvent.objects.create(
            event_name=name, product_id="p", product_title="P", session_id=f"s{index}"
        )
    settings.QUICK_ORDER_EXPORT_URL = live_server.url + EXPORT_PATH
    settings.QUICK_ORDER_EXPORT_BUCKET = s3.bucket
    settings.QUICK_ORDER_EXPORT_STATUS_S3_URI = str(tmp_path / "status.json")

    run("export_quick_order_telemetry")

    status = json.loads((tmp_path / "status.json").read_text())
    assert status["events"] == 3
    assert status["metrics"]["startCount"] == 2 and status["metrics"]["completionRate"] == 50.0


@pytest.mark.django_db(transaction=True)
def test_the_automation_history_and_the_workflow_snapshot_agree_on_one_window(
    live_server, settings, s3, tmp_path
):
    """One definition of the guardrail workflow metrics: the API's ``guardrailWorkflow``
    summary and the exported status payload of the same window are equal, including every
    ``attachment.*`` action as an upload, bytes only from numbers, a renamed provider."""
    from telemetry.models import GuardrailWorkflowEvent

    base = datetime(2026, 1, 22, 4, 0, tzinfo=UTC)
    actions = [
        ("attachment.upload", "p1", "One", {"sizeBytes": 1000}),
        ("attachment.replace", "p1", "One Renamed", {"sizeBytes": 250.7}),
        ("attachment.delete", "p2", "Two", {"sizeBytes": "12"}),
        ("note.update", "p2", "Two", {"sizeBytes": True}),
        ("queue.pause", None, None, {}),
    ]
    for index, (action, provider, name, metadata) in enumerate(actions):
        GuardrailWorkflowEvent.objects.create(
            workflow_action=action,
            provider_id=provider,
            provider_name=name,
            metadata=metadata,
            recorded_at=base.replace(minute=index),
        )
    settings.GUARDRAIL_WORKFLOW_EXPORT_URL = (
        live_server.url + "/api/telemetry/guardrail-workflow/export"
    )
    settings.GUARDRAIL_WORKFLOW_EXPORT_BUCKET = s3.bucket
    settings.GUARDRAIL_WORKFLOW_EXPORT_STATUS_S3_URI = str(tmp_path / "wf.json")

    run("export_guardrail_workflow_telemetry")
    api = requests.get(
        live_server.url + "/api/v1/fulfillment/providers/automation/status/history",
        headers={"Authorization": f"Bearer {settings.CHECKOUT_API_KEY}"},
        timeout=10,
    ).json()["guardrailWorkflow"]

    exported = json.loads((tmp_path / "wf.json").read_text())["metrics"]
    assert {key: api[key] for key in exported} == exported
    assert exported["attachmentTotals"] == {"uploads": 3, "bytes": 1250}
    assert exported["providerActivity"][0] == {
        "providerId": "p1",
        "providerName": "One Renamed",
        "events": 2,
        "lastActionAt": "2026-01-22T04:01:00.000000Z",
    }


def test_a_missing_bucket_is_one_line_and_a_failed_run_not_a_traceback(
    quick_order, s3, httpserver, caplog
):
    quick_order.QUICK_ORDER_EXPORT_BUCKET = "no-such-bucket"
    httpserver.expect_request(EXPORT_PATH).respond_with_data(
        ndjson([quick_order_line("quick_order.start", 0)])
    )
    with pytest.raises(CommandError, match=r"uploading to s3://no-such-bucket/.* NoSuchBucket"):
        run("export_quick_order_telemetry")
    assert not [record for record in caplog.records if record.exc_info]
    run_record = ExportRun.objects.get()
    assert run_record.outcome == "failed" and "NoSuchBucket" in run_record.error
    assert len(slack_messages(httpserver)) == 1


@pytest.mark.parametrize(
    ("status_uri", "message"),
    [
        ("https://status.example.com/qo.json", "cannot write a status payload to https://"),
        ("s3://bucket-only", "names no object"),
    ],
)
def test_a_status_destination_that_cannot_be_written_is_refused_before_anything_moves(
    quick_order, httpserver, tmp_path, monkeypatch, status_uri, message
):
    monkeypatch.chdir(tmp_path)
    quick_order.QUICK_ORDER_EXPORT_STATUS_S3_URI = status_uri
    with pytest.raises(CommandError, match=message):
        run("export_quick_order_telemetry")
    assert [r for r, _ in httpserver.log if r.path == EXPORT_PATH] == []  # nothing fetched
    assert list(tmp_path.iterdir()) == []  # and no folder named "https:"


def test_malformed_quick_order_lines_are_counted_apart_and_left_out_of_the_snapshot(
    quick_order, s3, httpserver
):
    good = [quick_order_line("quick_order.start", 0), quick_order_line("quick_order.complete", 1)]
    body = (
        json.dumps(good[0])
        + "\n<html>proxy error</html>\n"
        + '{"eventId": "cut-off", "eventNa\n'
        + "[1, 2]\n"
        + json.dumps(good[1])
        + "\n"
    )
    httpserver.expect_request(EXPORT_PATH).respond_with_data(
        body, content_type="application/x-ndjson", headers={"X-Quick-Order-Events": "5"}
    )

    output = run("export_quick_order_telemetry")

    status = status_read(quick_order.QUICK_ORDER_EXPORT_STATUS_S3_URI)
    assert status["events"] == 2 and status["malformedLines"] == 3
    assert status["metrics"]["startCount"] == 1 and status["metrics"]["completeCount"] == 1
    assert requests.get(status["downloadUrl"], timeout=5).text == ndjson(good)
    run_row = ExportRun.objects.get()
    assert (run_row.outcome, run_row.rows) == ("succeeded", 2)
    notice = "3 malformed line(s) (not a JSON object) left out of the snapshot: line 2, 3, 4"
    assert notice in run_row.error and notice in output
    assert "proxy error" not in run_row.error  # the lines' text is never repeated
    (message,) = slack_messages(httpserver)
    assert ": 2 events" in message and f"Note: {notice}" in message


def test_malformed_guardrail_workflow_lines_are_counted_apart_too(
    settings, s3, httpserver, tmp_path
):
    settings.GUARDRAIL_WORKFLOW_EXPORT_URL = httpserver.url_for("/wf")
    settings.GUARDRAIL_WORKFLOW_EXPORT_BUCKET = s3.bucket
    settings.GUARDRAIL_WORKFLOW_EXPORT_STATUS_S3_URI = str(tmp_path / "wf-status.json")
    event = {"eventId": "a", "workflowAction": "note.update", "providerId": "p1"}
    httpserver.expect_request("/wf").respond_with_data(f'not json\n{json.dumps(event)}\n"x"\n')

    run("export_guardrail_workflow_telemetry")

    status = json.loads((tmp_path / "wf-status.json").read_text())
    assert status["events"] == 1 and status["malformedLines"] == 2
    assert status["metrics"]["actionCounts"] == {"note.update": 1}
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=s3.bucket)["Contents"]]
    uploaded = s3.get_object(Bucket=s3.bucket, Key=key)["Body"].read().decode()
    assert uploaded == json.dumps(event) + "\n"
    assert "line 1, 3 of the download" in ExportRun.objects.get().error


def test_a_download_without_one_event_fails_and_uploads_nothing(quick_order, s3, httpserver):
    httpserver.expect_request(EXPORT_PATH).respond_with_data("<html>\n<body>Sign in</body>\n")
    with pytest.raises(CommandError, match="none is a JSON event"):
        run("export_quick_order_telemetry")
    assert "Contents" not in s3.list_objects_v2(Bucket=s3.bucket)
    assert ExportRun.objects.get().outcome == "failed"
