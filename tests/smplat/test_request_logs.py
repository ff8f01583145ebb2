"""Request ids (the proxy's when well formed, echoed), one log line per request and per
export run carrying its id, LOG_FORMAT=json, and no secret in any log line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from exports.models import ExportRun
from smplat.logs import ContextFilter, JsonFormatter
from tests.factories import GuardrailFollowUpFactory
from tests.subprocesses import child_env

pytestmark = pytest.mark.django_db

FOLLOW_UPS = "/api/v1/reporting/guardrails/followups"


@pytest.fixture
def json_log():
    """Every log record of the test, formatted as LOG_FORMAT=json formats it."""
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous)


def test_the_proxy_request_id_is_kept_and_echoed(api_client, json_log):
    response = api_client.get(FOLLOW_UPS, HTTP_X_REQUEST_ID="edge-1f2e3d4c5b6a")
    assert response["X-Request-ID"] == "edge-1f2e3d4c5b6a"
    [line] = [r for r in json_log() if r["logger"] == "smplat.requests"]
    assert line["request_id"] == "edge-1f2e3d4c5b6a"
    assert line["route"] == "/api/v1/reporting/guardrails/followups"
    assert (line["method"], line["status"], line["actor"]) == ("GET", 200, "key:CHECKOUT_API_KEY")
    assert line["level"] == "INFO" and line["timestamp"] and line["duration_ms"] >= 0


@pytest.mark.parametrize(
    "proposed", [None, "short", "has spaces in it", "x" * 200, "evil\r\nSet-Cookie: a=b"]
)
def test_a_missing_or_malformed_request_id_is_replaced(client, proposed):
    headers = {} if proposed is None else {"HTTP_X_REQUEST_ID": proposed}
    response = client.get("/healthz", **headers)
    generated = response["X-Request-ID"]
    assert generated != proposed and len(generated) == 32 and generated.isalnum()


def test_every_response_carries_a_request_id_even_errors_and_redirects(client, settings):
    assert client.get("/no/such/page")["X-Request-ID"]
    assert client.get("/admin/reports/")["X-Request-ID"]  # the login redirect
    assert APIClient().get(FOLLOW_UPS)["X-Request-ID"]  # a 401


def test_djangos_own_4xx_line_carries_the_requests_id(json_log):
    """Django logs "Unauthorized: /path" after the middleware returned; it had request_id null."""
    response = APIClient().get(FOLLOW_UPS, HTTP_X_REQUEST_ID="probe-4711")
    assert response.status_code == 401
    lines = json_log()
    [django_line] = [r for r in lines if r["logger"] == "django.request"]
    [ours] = [r for r in lines if r["logger"] == "smplat.requests"]
    assert django_line["request_id"] == ours["request_id"] == "probe-4711"
    APIClient().get("/healthz")  # the next request, on the same thread, has its own id
    assert json_log()[-1]["request_id"] not in (None, "probe-4711")


def test_staff_requests_log_the_username(alice, json_log):
    client = APIClient()
    client.force_login(alice)
    client.get(FOLLOW_UPS)
    [line] = [r for r in json_log() if r["logger"] == "smplat.requests"]
    assert line["actor"] == "alice"


def test_an_export_run_logs_with_its_run_id(json_log):
    GuardrailFollowUpFactory.create_batch(3)
    call_command("export_guardrail_followups", "--limit", "5", stdout=StringIO(), stderr=StringIO())
    run = ExportRun.objects.get()
    lines = [r for r in json_log() if r["logger"] == "smplat.exports.runs"]
    assert [line["run_id"] for line in lines] == [run.pk, run.pk]
    assert "started" in lines[0]["message"] and "succeeded: 3 rows" in lines[1]["message"]


def test_no_key_or_token_appears_in_any_log_line(json_log, settings, api_client):
    from smplat.api.services import api_key_create

    settings.METRICS_TOKEN = "metrics-secret-token-123"
    out = StringIO()
    call_command("api_key", "create", "bi", "--scope", "read", stdout=out, stderr=StringIO())
    named = out.getvalue().strip()
    ingest = api_key_create(name="storefront", scopes=["ingest"]).plaintext
    APIClient().get(FOLLOW_UPS, HTTP_AUTHORIZATION=f"Bearer {named}")
    APIClient().get(FOLLOW_UPS, HTTP_X_API_KEY=ingest)  # outside its scope: 403
    APIClient().get(FOLLOW_UPS, HTTP_AUTHORIZATION=f"Bearer {named}x")  # wrong: 401
    api_client.get(FOLLOW_UPS)
    APIClient().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}")
    APIClient().get("/metrics", HTTP_AUTHORIZATION="Bearer guessed-token")
    call_command("api_key", "revoke", "bi", stdout=StringIO())

    lines = json_log()
    text = "\n".join(json.dumps(line) for line in lines)
    assert len([r for r in lines if r["logger"] == "smplat.requests"]) == 6
    for secret in (
        named,
        named.split("_", 2)[2],  # the secret part alone (smplat_<prefix>_<secret>; it may hold "_")
        ingest,
        settings.CHECKOUT_API_KEY,
        settings.METRICS_TOKEN,
        "guessed-token",
    ):
        assert secret not in text


def test_log_format_json_writes_one_object_per_line():
    script = (
        "import django, logging; django.setup();"
        "logging.getLogger('smplat.check').warning('hello %s', 'world')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=child_env(LOG_FORMAT="json"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [line] = [line for line in result.stderr.splitlines() if "smplat.check" in line]
    record = json.loads(line)
    assert record["message"] == "hello world"
    assert (record["level"], record["logger"]) == ("WARNING", "smplat.check")
    assert {"timestamp", "request_id", "run_id", "actor"} <= set(record)


def test_an_unknown_log_format_is_refused():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[2],
        env=child_env(LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "LOG_FORMAT='xml'" in result.stderr
