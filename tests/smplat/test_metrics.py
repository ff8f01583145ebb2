"""/metrics: Prometheus text format behind METRICS_TOKEN; the export and telemetry figures
agree with the database; request counts by route and status; summed over gunicorn workers
in multiprocess mode."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from exports.models import ExportRun, Feed
from telemetry.models import GuardrailWorkflowEvent, QuickOrderEvent
from tests.subprocesses import child_env

TOKEN = "metrics-token-for-tests"


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def _run(feed, outcome, *, ago_minutes, seconds=2.0, rows=0) -> ExportRun:
    finished = timezone.now() - timedelta(minutes=ago_minutes)
    return ExportRun.objects.create(
        feed=feed,
        outcome=outcome,
        created_at=finished - timedelta(seconds=seconds),
        started_at=finished - timedelta(seconds=seconds),
        finished_at=finished,
        rows=rows,
    )


@pytest.fixture
def scrape(live_server, settings):
    settings.METRICS_TOKEN = TOKEN

    def get(token=TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(live_server.url + "/metrics", headers=headers, timeout=10)

    return get


@pytest.mark.django_db(transaction=True)
def test_the_scrape_parses_and_matches_the_database(scrape, api_client):
    _run(Feed.GUARDRAIL_FOLLOWUPS, "succeeded", ago_minutes=300, rows=40)
    _run(Feed.GUARDRAIL_FOLLOWUPS, "failed", ago_minutes=200, rows=5)
    last = _run(Feed.GUARDRAIL_FOLLOWUPS, "succeeded", ago_minutes=10, seconds=7.5, rows=12)
    _run(Feed.ONBOARDING_PRICING_SEGMENTS, "failed", ago_minutes=5, seconds=3)
    _run(Feed.QUICK_ORDER_TELEMETRY, "no_data", ago_minutes=50)  # late: 30-minute schedule
    for _ in range(3):
        api_client.post(
            "/api/telemetry/quick-order",
            {"eventName": "quick_order.start", "productId": "p", "productTitle": "P"},
            format="json",
        )
    api_client.get("/api/v1/reporting/guardrails/followups?limit=0")  # a 400

    response = scrape()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = _samples(response.text)
    feed = Feed.GUARDRAIL_FOLLOWUPS

    assert _value(samples, "smplat_export_rows_exported_total", feed=feed) == 57
    assert _value(samples, "smplat_export_rows_exported_total", feed="offer_events") == 0
    age = _value(samples, "smplat_export_last_success_age_seconds", feed=feed)
    assert 600 <= age < 700
    assert _value(
        samples, "smplat_export_last_success_timestamp_seconds", feed=feed
    ) == pytest.approx(last.finished_at.timestamp())
    assert _value(samples, "smplat_export_last_success_age_seconds", feed="offer_events") is None
    assert _value(samples, "smplat_export_last_run_duration_seconds", feed=feed) == 7.5
    assert _value(samples, "smplat_export_last_run_outcome", feed=feed, outcome="succeeded") == 1
    assert _value(samples, "smplat_export_last_run_outcome", feed=feed, outcome="failed") == 0
    segments = Feed.ONBOARDING_PRICING_SEGMENTS
    assert _value(samples, "smplat_export_last_run_outcome", feed=segments, outcome="failed") == 1

    states = {
        (labels["feed"], labels["state"]): value
        for (name, items), value in samples.items()
        if name == "smplat_export_feed_state"
        for labels in [dict(items)]
    }
    assert states[(feed, "fresh")] == 1
    assert states[(Feed.QUICK_ORDER_TELEMETRY, "late")] == 1
    assert states[(segments, "failing")] == 1  # its only run failed: failing, worst wins
    assert states[(Feed.GUARDRAIL_WORKFLOW_TELEMETRY, "never")] == 1
    # One state per feed, the one the card and monitor_exports show (exports.health).
    assert sum(value for (name, _), value in states.items() if name == segments) == 1
    for current in ((feed, "fresh"), (Feed.QUICK_ORDER_TELEMETRY, "late")):
        others = [v for (f, s), v in states.items() if f == current[0] and (f, s) != current]
        assert others and set(others) == {0}
    assert {s for (_f, s) in states} == {
        "never",
        "running",
        "fresh",
        "late",
        "stale",
        "failing",
        "stuck",
    }

    assert (
        _value(samples, "smplat_telemetry_window_rows", window="quick_order")
        == (QuickOrderEvent.objects.count())
        == 3
    )
    assert _value(samples, "smplat_telemetry_window_rows", window="guardrail_workflow") == (
        GuardrailWorkflowEvent.objects.count()
    )
    assert _value(samples, "smplat_telemetry_window_capacity", window="quick_order") == 5000

    route = "/api/telemetry/quick-order"
    assert (
        _value(samples, "smplat_http_requests_total", route=route, method="POST", status="201") >= 3
    )
    assert (
        _value(
            samples,
            "smplat_http_requests_total",
            route="/api/v1/reporting/guardrails/followups",
            method="GET",
            status="400",
        )
        >= 1
    )


@pytest.mark.django_db
def test_metrics_are_refused_without_the_token(scrape, settings):
    assert scrape(token=None).status_code == 401
    wrong = scrape(token="wrong")
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
    assert "smplat_" not in wrong.text
    settings.METRICS_TOKEN = ""
    assert scrape(token="").status_code == 404
    assert scrape(token="anything").status_code == 404


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_are_summed_in_multiprocess_mode(tmp_path: Path):
    """django-prometheus #337: without multiprocess mode each scrape sees one worker."""
    port = _free_port()
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = child_env(
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
        METRICS_TOKEN=TOKEN,
        CHECKOUT_API_KEY="gunicorn-test-key",
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "smplat.wsgi",
            "--config",
            "python:smplat.gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/healthz", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        # New connections each time, so that the requests spread over the workers: 30, and
        # more until a second worker has counted one (workers boot at their own pace).
        sent = 0
        while sent < 30 or (
            len(list(multiproc.glob("counter_*.db"))) < 2 and time.monotonic() < deadline
        ):
            assert requests.get(base + "/healthz", timeout=5).status_code == 200
            sent += 1
        text = requests.get(
            base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        ).text
    finally:
        server.terminate()
        server.wait(timeout=20)
    samples = _samples(text)
    # 1 + the health checks sent, every worker's counted, whichever worker answered the scrape.
    assert (
        _value(samples, "smplat_http_requests_total", route="/healthz", method="GET", status="200")
        >= 1 + sent
    )
    assert len(list(multiproc.glob("counter_*.db"))) >= 2


@pytest.mark.django_db(transaction=True)
def test_gunicorns_own_lines_are_json_with_log_format_json():
    """Its "Booting worker" and error lines were plain text among the site's JSON lines."""
    port = _free_port()
    env = child_env(LOG_FORMAT="json", CHECKOUT_API_KEY="gunicorn-test-key")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "smplat.wsgi"),
            *("--config", "python:smplat.gunicorn", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "1"),
        ],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok
                requests.get(
                    f"http://127.0.0.1:{port}/badges/secret-badge-key-4711.svg", timeout=10
                )
                break
            except requests.RequestException:
                time.sleep(0.2)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    loggers = {line["logger"] for line in lines}
    assert "gunicorn.error" in loggers and "smplat.requests" in loggers
    assert any("Booting worker" in line["message"] for line in lines)
    # No access log beside the site's own request lines: it would print a badge URL's key
    # (the site's line names the route).
    assert "gunicorn.access" not in loggers
    [badge] = [line for line in lines if "badges" in (line.get("route") or "")]
    assert "secret-badge-key-4711" not in json.dumps(badge)
