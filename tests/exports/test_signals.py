"""SIGTERM (a stopping container) and SIGINT (Ctrl-C, a cancelled GitHub run) stop an
exporter process after the batch in flight: delivered, checkpointed, exit 1, and the next
run resumes without losing or repeating a row."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from werkzeug import Response

from exports.models import ExportRun
from tests.exports.conftest import expected_order, make_follow_ups
from tests.subprocesses import child_env


def exporter(url: str, cursor) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "export_guardrail_followups",
            "--sink",
            "webhook",
            "--webhook-url",
            url,
            "--cursor-store",
            "file",
            "--cursor-store-path",
            str(cursor),
            "--batch-size",
            "10",
        ],
        env=child_env(EXPORT_SAFETY_LAG_SECONDS="0"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_after_the_batch_in_flight(httpserver, tmp_path, signum):
    rows = make_follow_ups(100, per_timestamp=3)
    received: list[str] = []

    def slow_receiver(request):
        time.sleep(0.2)  # the signal arrives while a batch is being delivered
        received.extend(row["followUpId"] for row in json.loads(request.data)["followUps"])
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(slow_receiver)
    cursor = tmp_path / "cursor.json"

    process = exporter(httpserver.url_for("/hook"), cursor)
    deadline = time.monotonic() + 30
    while not httpserver.log and process.poll() is None:
        assert time.monotonic() < deadline, "no batch was sent"
        time.sleep(0.01)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 1, stderr.decode()
    assert "stopped by a signal" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    stopped = ExportRun.objects.get()
    assert stopped.outcome == "failed" and 0 < stopped.rows < 100
    assert json.loads(cursor.read_text())["rows"] == stopped.rows == len(received)

    resumed = exporter(httpserver.url_for("/hook"), cursor)
    _, stderr = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, stderr.decode()
    assert received == expected_order(rows)  # every row once, in order
