"""'Run export now' (workflow dispatch or the task queue) and the download proxies."""

import json
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils.crypto import get_random_string
from werkzeug import Response

from exports.models import ExportRun
from reports.pages.downloads import UNAVAILABLE
from tests.factories import GuardrailFollowUpFactory
from tests.subprocesses import child_env

TRIGGER = "/api/reporting/guardrail-followups/export"
RUN_NOW = "/admin/reports/cards/guardrail_followups/run/"


@pytest.fixture(autouse=True)
def clean(settings, httpserver):
    for name in dir(settings):
        if name.endswith(("_STATUS_URL", "_STATUS_S3_URI", "_WORKFLOW_URL", "_TRIGGER_URL")):
            setattr(settings, name, "")
    settings.GITHUB_RUN_ID = ""
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [f"localhost:{httpserver.port}"]
    cache.clear()
    yield
    cache.clear()


def _csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = get_random_string(32)  # as a browser would hold it after any form page
    client.cookies["csrftoken"] = token
    return client, token


# --- Workflow dispatch ----------------------------------------------------------------------


@pytest.mark.django_db
def test_run_now_dispatches_the_workflow_once_and_links_the_run(alice, httpserver, settings):
    httpserver.expect_oneshot_request(
        "/repos/smplat/smplat/actions/workflows/guardrail-followup-export.yml/dispatches",
        method="POST",
        headers={"Authorization": "Bearer ghp_test_token"},
        json={"ref": "main", "inputs": {}, "return_run_details": True},
    ).respond_with_json(
        {"workflow_run_id": 42, "html_url": "https://github.com/smplat/smplat/actions/runs/42"},
        status=200,
    )
    settings.GUARDRAIL_EXPORT_TRIGGER_URL = httpserver.url_for(
        "/repos/smplat/smplat/actions/workflows/guardrail-followup-export.yml/dispatches"
    )
    settings.GUARDRAIL_EXPORT_TRIGGER_TOKEN = "ghp_test_token"
    client, token = _csrf_client(alice)

    first = client.post(TRIGGER, HTTP_X_CSRFTOKEN=token)
    second = client.post(TRIGGER, HTTP_X_CSRFTOKEN=token)  # the double click

    assert first.status_code == 202 and first.json()["created"] is True
    assert first.json()["externalUrl"] == "https://github.com/smplat/smplat/actions/runs/42"
    assert second.status_code == 200 and second.json()["created"] is False
    assert len(httpserver.log) == 1
    run = ExportRun.objects.get()
    assert (run.outcome, run.trigger, run.requested_by) == ("dispatched", "manual", alice)
    card = client.get("/admin/reports/cards/guardrail_followups/").content.decode()
    assert (
        "Workflow dispatched" in card and "https://github.com/smplat/smplat/actions/runs/42" in card
    )
    assert "ghp_test_token" not in card


@pytest.mark.django_db
def test_a_refused_dispatch_is_a_502_and_records_nothing(alice, httpserver, settings):
    httpserver.expect_request("/dispatch", method="POST").respond_with_json(
        {"message": "Bad credentials"}, status=401
    )
    settings.GUARDRAIL_EXPORT_TRIGGER_URL = httpserver.url_for("/dispatch")
    settings.GUARDRAIL_EXPORT_TRIGGER_TOKEN = "wrong"
    client, token = _csrf_client(alice)
    response = client.post(TRIGGER, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 502
    assert "401" in response.json()["error"]["message"]
    assert "wrong" not in response.content.decode()
    assert not ExportRun.objects.exists()


@pytest.mark.django_db
def test_the_trigger_needs_csrf_staff_and_permission(alice, bob, charlie, api_client):
    no_csrf = Client(enforce_csrf_checks=True)
    no_csrf.force_login(alice)
    assert no_csrf.post(TRIGGER).status_code == 403
    for user in (bob, charlie):
        client, token = _csrf_client(user)
        assert client.post(TRIGGER, HTTP_X_CSRFTOKEN=token).status_code == 403
    keyed = api_client.post(TRIGGER)  # the API key is not a staff session, and it says so
    assert keyed.status_code == 403
    assert "API keys are not accepted here" in keyed.json()["error"]["message"]
    assert not ExportRun.objects.exists()


# --- The task queue, end to end -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_run_now_without_a_trigger_runs_the_export_on_the_worker(alice, tmp_path, settings):
    GuardrailFollowUpFactory.create_batch(12)
    out, cursor, status = (
        tmp_path / "out.ndjson",
        tmp_path / "cursor.json",
        tmp_path / "status.json",
    )
    export_env = {
        "GUARDRAIL_EXPORT_SINK": "file",
        "GUARDRAIL_EXPORT_FILE_PATH": str(out),
        "GUARDRAIL_EXPORT_CURSOR_PATH": str(cursor),
        "GUARDRAIL_EXPORT_STATUS_S3_URI": str(status),
        "EXPORT_SAFETY_LAG_SECONDS": "0",
    }
    settings.GUARDRAIL_EXPORT_STATUS_URL = str(status)
    settings.GUARDRAIL_EXPORT_SINK = "file"  # the site offers runs only for a feed it can run
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(out)
    client, token = _csrf_client(alice)

    page = client.post(RUN_NOW, HTTP_X_CSRFTOKEN=token, HTTP_X_REQUESTED_WITH="fetch")
    again = client.post(RUN_NOW, HTTP_X_CSRFTOKEN=token, HTTP_X_REQUESTED_WITH="fetch")
    assert page.status_code == again.status_code == 200
    assert "queued" in page.content.decode() and 'data-in-flight="queued"' in page.content.decode()
    run = ExportRun.objects.get()  # the double click queued one run
    assert run.outcome == "queued"

    worker = subprocess.run(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "db_worker",
            "--batch",
            "--no-startup-delay",
        ],
        env=child_env(**export_env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr

    run.refresh_from_db()
    assert run.outcome == "succeeded", run.error
    assert run.rows == 12
    assert len(out.read_text().splitlines()) == 12
    assert json.loads(cursor.read_text())["cursor"] == run.cursor_after
    card = client.get("/admin/reports/cards/guardrail_followups/").content.decode()
    assert run.cursor_after in card and "data-in-flight" not in card


@pytest.mark.django_db
def test_a_queued_run_nobody_picked_up_is_closed_and_a_new_one_queued(alice, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "out.ndjson")

    stale = ExportRun.objects.create(
        feed="guardrail_followups", trigger="manual", created_at=timezone.now() - timedelta(hours=2)
    )
    client, token = _csrf_client(alice)
    client.post(RUN_NOW, HTTP_X_CSRFTOKEN=token)
    stale.refresh_from_db()
    assert stale.outcome == "failed" and "No worker picked this run up" in stale.error
    assert ExportRun.objects.filter(outcome="queued").count() == 1


@pytest.mark.django_db
def test_run_now_of_an_unknown_feed_is_404(alice):
    client, token = _csrf_client(alice)
    assert (
        client.post("/admin/reports/cards/everything/run/", HTTP_X_CSRFTOKEN=token).status_code
        == 404
    )


# --- Download proxies -----------------------------------------------------------------------


def _status(httpserver, settings, download_url, name="QUICK_ORDER_EXPORT_STATUS_URL"):
    httpserver.expect_request("/status.json").respond_with_json(
        {"syncedAt": "2026-11-22T04:00:00Z", "events": 2, "downloadUrl": download_url}
    )
    setattr(settings, name, httpserver.url_for("/status.json"))


@pytest.mark.django_db
def test_the_proxy_streams_the_download_url_of_the_status(alice, client, httpserver, settings):
    body = b'{"eventId": "1"}\n{"eventId": "2"}\n'
    httpserver.expect_request("/quick-order/2026/11/22/run.ndjson").respond_with_data(body)
    _status(httpserver, settings, httpserver.url_for("/quick-order/2026/11/22/run.ndjson"))
    client.force_login(alice)
    response = client.get("/api/reporting/quick-order-export")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == body
    assert (
        response["Content-Disposition"] == 'attachment; filename="quick-order-events-latest.ndjson"'
    )


@pytest.mark.django_db
def test_the_proxy_streams_an_s3_download_url(alice, client, settings, s3):
    s3.put_object(Bucket=s3.bucket, Key="guardrail/latest.ndjson", Body=b'{"followUpId": "a"}\n')
    status = {
        "cursor": "c",
        "rows": 1,
        "updatedAt": "2026-11-22T04:00:00Z",
        "downloadUrl": f"s3://{s3.bucket}/guardrail/latest.ndjson",
    }
    s3.put_object(Bucket=s3.bucket, Key="status.json", Body=json.dumps(status).encode())
    settings.GUARDRAIL_EXPORT_STATUS_URL = f"s3://{s3.bucket}/status.json"
    client.force_login(alice)
    response = client.get(TRIGGER)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b'{"followUpId": "a"}\n'


@pytest.mark.django_db
@pytest.mark.parametrize(
    "download_url",
    ["http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "ftp://localhost/x"],
)
def test_the_proxy_refuses_other_hosts_and_schemes(
    alice, client, httpserver, settings, download_url
):
    _status(httpserver, settings, download_url)
    client.force_login(alice)
    response = client.get("/api/reporting/quick-order-export")
    assert response.status_code == 502
    assert response.json()["error"]["message"] == UNAVAILABLE


@pytest.mark.django_db
def test_the_proxy_does_not_follow_a_redirect_to_another_host(alice, client, httpserver, settings):
    httpserver.expect_request("/artifact").respond_with_response(
        Response(status=302, headers={"Location": "http://127.0.0.1:9/internal"})
    )
    _status(httpserver, settings, httpserver.url_for("/artifact"))
    client.force_login(alice)
    response = client.get("/api/reporting/quick-order-export")
    assert response.status_code == 502
    assert response.json()["error"]["message"] == UNAVAILABLE


@pytest.mark.django_db
def test_the_proxy_follows_a_redirect_on_the_same_host(alice, client, httpserver, settings):
    httpserver.expect_request("/artifact").respond_with_response(
        Response(status=302, headers={"Location": "/artifact-v2"})
    )
    httpserver.expect_request("/artifact-v2").respond_with_data(b"{}\n")
    _status(httpserver, settings, httpserver.url_for("/artifact"))
    client.force_login(alice)
    response = client.get("/api/reporting/quick-order-export")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"{}\n"


@pytest.mark.django_db
def test_the_proxy_refuses_an_artifact_over_the_size_cap(alice, client, httpserver, settings):
    settings.EXPORT_PROXY_MAX_BYTES = 100
    httpserver.expect_request("/big").respond_with_data(b"x" * 1000)
    _status(httpserver, settings, httpserver.url_for("/big"))
    client.force_login(alice)
    response = client.get("/api/reporting/quick-order-export")
    assert response.status_code == 502
    assert "larger than 100 bytes" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_no_status_means_nothing_to_download(alice, client):
    client.force_login(alice)
    response = client.get("/api/reporting/quick-order-export")
    assert response.status_code == 404
    assert "No export status" in response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/api/reporting/quick-order-export", TRIGGER, "/api/reporting/guardrail-workflow-export"],
)
def test_the_proxies_are_staff_only(client, charlie, api_client, url):
    assert client.get(url).status_code == 403
    client.force_login(charlie)
    assert client.get(url).status_code == 403
    assert api_client.get(url).status_code == 403


@pytest.mark.django_db
def test_a_feed_this_site_cannot_run_offers_no_button_and_refuses_a_run(alice, settings):
    """Without the feed's destination a run could only fail: the card says what is missing,
    the form post and the API refuse, and no run is queued."""
    settings.GUARDRAIL_EXPORT_SINK = "webhook"
    settings.ANALYTICS_GUARDRAIL_WEBHOOK = ""
    settings.QUICK_ORDER_EXPORT_URL = ""
    client, token = _csrf_client(alice)

    html = client.get("/admin/reports/").content.decode()
    guardrail = html[html.index('id="card-guardrail_followups"') :]
    guardrail = guardrail[: guardrail.index("</article>")]
    assert "Run export now is off here: ANALYTICS_GUARDRAIL_WEBHOOK is not set" in guardrail
    assert 'action="/admin/reports/cards/guardrail_followups/run/"' not in guardrail
    quick_order = html[html.index('id="card-quick_order_telemetry"') :]
    assert "QUICK_ORDER_EXPORT_URL and QUICK_ORDER_EXPORT_BUCKET are not set" in quick_order

    page = client.post(RUN_NOW, HTTP_X_CSRFTOKEN=token, HTTP_X_REQUESTED_WITH="fetch")
    assert page.status_code == 409
    api = client.post(TRIGGER, HTTP_X_CSRFTOKEN=token)
    assert api.status_code == 409 and api.json()["error"]["code"] == "not_configured"
    assert not ExportRun.objects.exists()

    settings.GUARDRAIL_EXPORT_TRIGGER_URL = "https://api.github.com/repos/o/r/dispatches"
    html = client.get("/admin/reports/").content.decode()  # a workflow can run it: offered
    assert 'action="/admin/reports/cards/guardrail_followups/run/"' in html


# --- Request bodies -------------------------------------------------------------------------


def _body(kind: str, size: int) -> dict:
    """A request body of about ``size`` bytes of the given kind, as Client.post takes it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    if kind == "multipart":
        return {"data": {"upload": SimpleUploadedFile("big.bin", b"x" * size)}}
    if kind == "urlencoded":
        return {
            "data": "padding=" + "x" * size,
            "content_type": "application/x-www-form-urlencoded",
        }
    return {"data": json.dumps({"padding": "x" * size}), "content_type": "application/json"}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["multipart", "urlencoded", "json"])
def test_a_run_now_body_over_the_limit_is_413_of_every_kind(alice, settings, tmp_path, kind):
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "out.ndjson")
    client, token = _csrf_client(alice)
    response = client.post(TRIGGER, HTTP_X_CSRFTOKEN=token, **_body(kind, 10 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not ExportRun.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["multipart", "urlencoded"])
def test_api_max_body_bytes_caps_form_bodies_as_it_caps_json(alice, settings, tmp_path, kind):
    settings.API_MAX_BODY_BYTES = 1000
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "out.ndjson")
    client, token = _csrf_client(alice)
    assert client.post(TRIGGER, HTTP_X_CSRFTOKEN=token, **_body(kind, 2000)).status_code == 413
    assert not ExportRun.objects.exists()
    small = client.post(TRIGGER, HTTP_X_CSRFTOKEN=token, **_body(kind, 10))
    assert small.status_code == 202  # a body within the cap still queues the run
