"""Lossless resumption: SIGKILL the exporter in the middle of a large run with many tied
timestamps, resume it each time, and check that every row arrived."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.exports.conftest import expected_order, make_follow_ups
from tests.subprocesses import child_env

ROWS = 3_000
BATCH = 25
KILL_AFTER_LINES = (300, 1_100, 1_900, 2_600)


def exporter(out: Path, cursor: Path) -> subprocess.Popen:
    env = child_env(EXPORT_SAFETY_LAG_SECONDS="0")
    return subprocess.Popen(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "export_guardrail_followups",
            "--sink",
            "file",
            "--file-path",
            str(out),
            "--cursor-store",
            "file",
            "--cursor-store-path",
            str(cursor),
            "--batch-size",
            str(BATCH),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def line_count(path: Path) -> int:
    try:
        with open(path, "rb") as file:
            return sum(1 for _ in file)
    except FileNotFoundError:
        return 0


@pytest.mark.django_db(transaction=True)
def test_resume_after_kill_loses_no_row(tmp_path):
    # 7 rows share each timestamp and batches hold 25: most batches end inside a tie.
    rows = make_follow_ups(ROWS, per_timestamp=7)
    out, cursor = tmp_path / "followups.ndjson", tmp_path / "cursor.json"
    kills = 0
    deadline = time.monotonic() + 25

    for threshold in KILL_AFTER_LINES:
        process = exporter(out, cursor)
        while process.poll() is None and line_count(out) < threshold:
            assert time.monotonic() < deadline, "the exporter made no progress"
            time.sleep(0.002)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        # A killed run never leaves a half-written cursor file.
        if cursor.exists():
            assert json.loads(cursor.read_text())["cursor"].count("~") == 1

    final = exporter(out, cursor)
    _, stderr = final.communicate(timeout=60)
    assert final.returncode == 0, stderr.decode()

    lines = out.read_text().splitlines()
    received = [json.loads(line)["followUpId"] for line in lines]  # every line is whole JSON
    assert kills >= 2, "the runs finished before they could be killed"
    assert set(received) == {str(row.id) for row in rows}
    # Duplicates only from the batch in flight at each kill.
    assert len(received) - ROWS <= kills * BATCH
    # Apart from re-sent batches, rows arrive in (createdAt, id) order.
    deduplicated = list(dict.fromkeys(received))
    assert deduplicated == expected_order(rows)
