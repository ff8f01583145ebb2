"""The webhook sink against a local HTTP server that fails on purpose."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from exports.models import ExportRun
from tests.exports.conftest import BASE_TIME, expected_order, make_follow_ups

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"a-signing-secret-for-tests").decode()


def export(httpserver, tmp_path, *extra: str) -> None:
    call_command(
        "export_guardrail_followups",
        "--sink",
        "webhook",
        "--webhook-url",
        httpserver.url_for("/hook"),
        "--cursor-store",
        "file",
        "--cursor-store-path",
        str(tmp_path / "cursor.json"),
        *extra,
        stdout=open("/dev/null", "w"),  # noqa: SIM115
        stderr=open("/dev/null", "w"),  # noqa: SIM115
    )


def posted(httpserver) -> list:
    return [request for request, _ in httpserver.log]


def test_503_is_retried_with_the_same_webhook_id_and_a_valid_signature(
    httpserver, tmp_path, settings
):
    settings.EXPORT_WEBHOOK_SECRET = SECRET
    rows = make_follow_ups(5, per_timestamp=2)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")

    export(httpserver, tmp_path, "--batch-size", "3")

    first, retry, second = posted(httpserver)
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]
    assert second.headers["webhook-id"] != first.headers["webhook-id"]
    assert first.get_data() == retry.get_data()
    delivered = [json.loads(r.get_data())["followUps"] for r in (retry, second)]
    assert [row["followUpId"] for batch in delivered for row in batch] == expected_order(rows)
    for request in (first, retry, second):
        key = base64.b64decode(SECRET.removeprefix("whsec_"))
        signed = (
            f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
            + request.get_data()
        )
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert request.headers["webhook-signature"] == f"v1,{expected}"
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert ExportRun.objects.get().outcome == "succeeded"


# Every form the settings accept: padded, unpadded, and with base64's + and / characters.
ACCEPTED_SECRETS = [
    SECRET,
    SECRET.rstrip("="),
    "whsec_" + base64.b64encode(bytes(range(250, 256)) * 5).decode(),
]


@pytest.mark.parametrize("secret", ACCEPTED_SECRETS)
def test_the_reference_standardwebhooks_library_verifies_every_batch_with_the_same_secret(
    httpserver, tmp_path, settings, secret
):
    from standardwebhooks.webhooks import Webhook

    settings.EXPORT_WEBHOOK_SECRET = secret
    rows = make_follow_ups(5)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

    export(httpserver, tmp_path, "--batch-size", "2")

    receiver = Webhook(secret)
    verified = [receiver.verify(r.get_data(), dict(r.headers)) for r in posted(httpserver)]
    assert len(verified) == 3
    assert [row["followUpId"] for body in verified for row in body["followUps"]] == (
        expected_order(rows)
    )


def test_unsigned_without_a_secret(httpserver, tmp_path):
    make_follow_ups(1)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    export(httpserver, tmp_path)
    (request,) = posted(httpserver)
    assert "webhook-signature" not in request.headers
    assert request.headers["webhook-id"].startswith("msg_")


def test_429_waits_as_long_as_retry_after_says(httpserver, tmp_path):
    make_follow_ups(2)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")

    started = time.monotonic()
    export(httpserver, tmp_path)
    elapsed = time.monotonic() - started

    assert len(posted(httpserver)) == 2
    # The backoff base is 10 ms in the tests: only Retry-After explains a one-second wait.
    assert elapsed >= 0.95


def test_400_is_not_retried_and_the_cursor_stays_after_the_accepted_batches(httpserver, tmp_path):
    rows = make_follow_ups(6)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data(
        '{"error": "schema"}', status=400
    )

    with pytest.raises(CommandError, match="400") as caught:
        export(httpserver, tmp_path, "--batch-size", "3")

    assert len(posted(httpserver)) == 2
    assert "Cursor left at" in str(caught.value)
    checkpoint = json.loads((tmp_path / "cursor.json").read_text())
    third = sorted(rows, key=lambda r: (r.created_at, r.id))[2]
    assert checkpoint["cursor"].endswith(f"~{third.id}")
    run = ExportRun.objects.get()
    assert (run.outcome, run.rows) == ("failed", 3)
    assert "400" in run.error and run.cursor_after == checkpoint["cursor"]


def test_server_errors_until_the_last_try_fail_the_run_cleanly(httpserver, tmp_path, settings):
    settings.EXPORT_RETRY_ATTEMPTS = 3
    make_follow_ups(2)
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=502)

    with pytest.raises(CommandError, match="after 3 attempts"):
        export(httpserver, tmp_path)

    assert len(posted(httpserver)) == 3
    assert not (tmp_path / "cursor.json").exists()  # nothing was accepted, nothing checkpointed
    assert ExportRun.objects.get().outcome == "failed"


def test_network_errors_are_retried_then_reported(tmp_path, settings):
    settings.EXPORT_RETRY_ATTEMPTS = 2
    make_follow_ups(1)
    with pytest.raises(CommandError, match="ConnectionError"):
        call_command(
            "export_guardrail_followups",
            "--sink",
            "webhook",
            "--webhook-url",
            "http://127.0.0.1:9/hook",  # the discard port: nothing listens
            stderr=open("/dev/null", "w"),  # noqa: SIM115
        )


def test_a_resent_batch_after_a_crash_has_the_same_webhook_id(httpserver, tmp_path):
    """The receiver saw the batch, but the exporter died before its checkpoint: the resent
    batch (same rows, same positions) carries the same idempotency key."""
    make_follow_ups(4)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    export(httpserver, tmp_path, "--batch-size", "2", "--limit", "2")
    (tmp_path / "cursor.json").unlink()  # the checkpoint that a crash never wrote

    export(httpserver, tmp_path, "--batch-size", "2")

    ids = [request.headers["webhook-id"] for request in posted(httpserver)]
    assert ids[0] == ids[1] and len(set(ids)) == 2


def test_segments_use_their_envelope(httpserver, settings):
    from telemetry import services as telemetry_services

    telemetry_services.onboarding_event_record(
        order_id="8e0f3c0e-0000-4000-8000-000000000002",
        event_type="journey_started",
        metadata={"pricing_experiment_segment": {"slug": "spring-offer", "variantKey": "b"}},
    )
    settings.ANALYTICS_SEGMENTS_WEBHOOK = httpserver.url_for("/segments")
    httpserver.expect_request("/segments", method="POST").respond_with_data("ok")

    call_command(
        "export_onboarding_pricing_segments",
        "--sink",
        "webhook",
        stderr=open("/dev/null", "w"),  # noqa: SIM115
    )

    (request,) = posted(httpserver)
    assert [row["slug"] for row in json.loads(request.get_data())["segments"]] == ["spring-offer"]


def test_one_slack_message_per_run_with_rows_and_cursor(httpserver, tmp_path, settings):
    settings.GUARDRAIL_EXPORT_SLACK_WEBHOOK = httpserver.url_for("/slack")
    rows = make_follow_ups(3)
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

    export(httpserver, tmp_path, "--batch-size", "1")
    export(httpserver, tmp_path)

    slack = [json.loads(r.get_data())["text"] for r in posted(httpserver) if r.path == "/slack"]
    assert len(slack) == 2
    last = sorted(rows, key=lambda r: (r.created_at, r.id))[-1]
    assert "3 rows" in slack[0] and str(last.id) in slack[0]
    assert "0 rows" in slack[1] and "no new data" in slack[1]


def test_a_failing_slack_does_not_fail_the_export(httpserver, tmp_path, settings):
    settings.GUARDRAIL_EXPORT_SLACK_WEBHOOK = httpserver.url_for("/slack")
    make_follow_ups(1)
    httpserver.expect_request("/slack", method="POST").respond_with_data("gone", status=404)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

    export(httpserver, tmp_path)

    assert ExportRun.objects.get().outcome == "succeeded"


def test_failure_messages_do_not_reveal_the_webhook_path(tmp_path, settings):
    settings.EXPORT_RETRY_ATTEMPTS = 1
    make_follow_ups(1)
    with pytest.raises(CommandError) as caught:
        call_command(
            "export_guardrail_followups",
            "--sink",
            "webhook",
            "--webhook-url",
            "http://127.0.0.1:9/services/T000/B000/secret-token",
            stderr=open("/dev/null", "w"),  # noqa: SIM115
        )
    assert "secret-token" not in str(caught.value)
    assert "secret-token" not in ExportRun.objects.get().error


def test_credentials_and_an_echoed_path_stay_out_of_logs_errors_and_the_run(
    httpserver, settings, caplog
):
    """user:password@ in the URL, and a receiver whose 404 body names the path it got."""
    settings.EXPORT_RETRY_ATTEMPTS = 2
    httpserver.expect_ordered_request("/hooks/T00/SECRETPATH", method="POST").respond_with_data(
        "upstream down", status=503
    )
    httpserver.expect_ordered_request("/hooks/T00/SECRETPATH", method="POST").respond_with_data(
        "<pre>Cannot POST /hooks/T00/SECRETPATH?token=QTOKEN</pre>", status=404
    )
    url = httpserver.url_for("/hooks/T00/SECRETPATH?token=QTOKEN").replace(
        "http://", "http://exporter:S3CRETPASS@"
    )
    make_follow_ups(1)
    with pytest.raises(CommandError) as caught:
        call_command(
            "export_guardrail_followups",
            "--sink",
            "webhook",
            "--webhook-url",
            url,
            stderr=open("/dev/null", "w"),  # noqa: SIM115
        )
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("exports")]
    said = [str(caught.value), ExportRun.objects.get().error, *ours]
    assert ours  # the retry was logged
    assert "404" in said[0] and "Cannot POST" in said[0]  # still says what happened
    for secret in ("S3CRETPASS", "exporter:", "SECRETPATH", "QTOKEN"):
        assert not any(secret in text for text in said), secret


def test_batches_default_to_500_rows_a_post_unless_export_batch_size_says(
    httpserver, tmp_path, settings
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    make_follow_ups(501)
    export(httpserver, tmp_path)
    assert [len(json.loads(r.data)["followUps"]) for r in posted(httpserver)] == [500, 1]

    httpserver.clear_log()
    make_follow_ups(250, start=BASE_TIME + timedelta(days=1))
    settings.EXPORT_BATCH_SIZE = 100
    export(httpserver, tmp_path)
    assert [len(json.loads(r.data)["followUps"]) for r in posted(httpserver)] == [100, 100, 50]


def test_a_receivers_error_body_reaches_slack_escaped_never_as_markup(
    httpserver, tmp_path, settings
):
    """Slack renders <!channel> as a channel-wide mention and <url|text> as a link: a body a
    receiver answers with is shown as text (&, <, > escaped), whatever it contains."""
    settings.GUARDRAIL_EXPORT_SLACK_WEBHOOK = httpserver.url_for("/slack")
    make_follow_ups(1)
    hostile = "<!channel> rejected & <https://evil.example|click here>"
    httpserver.expect_request("/hook", method="POST").respond_with_data(hostile, status=400)
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")

    with pytest.raises(CommandError):
        export(httpserver, tmp_path)

    (text,) = [json.loads(r.get_data())["text"] for r in posted(httpserver) if r.path == "/slack"]
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt; rejected &amp; &lt;https://evil.example|click here&gt;" in text


def test_slack_read_timeouts_are_not_retried_so_nothing_is_posted_twice(httpserver, settings):
    """The exporters' messages follow the monitors' rule: Slack may have posted before the
    answer timed out, so the message is not sent again."""
    from exports.notifications import slack_post

    def slow(request):
        time.sleep(0.5)
        from werkzeug import Response

        return Response("ok")

    httpserver.expect_request("/slack", method="POST").respond_with_handler(slow)
    outcome = slack_post(webhook_url=httpserver.url_for("/slack"), text="run failed", timeout=0.2)

    assert not outcome.delivered and "ReadTimeout" in outcome.detail
    # slack_post has returned: a retry would have been sent by now. The server logs the one
    # request once its slow handler is done.
    deadline = time.monotonic() + 10
    while not posted(httpserver) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(posted(httpserver)) == 1
