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


@pytest.mark.django_db
def test_the_next_run_removes_temporary_files_a_killed_run_left(tmp_path, settings):
    """A SIGKILL between creating the cursor's (or status file's) temporary file and
    renaming it leaves ``.<name>.<hex>.tmp`` behind; the next run removes those, and only
    those old enough not to be another writer's."""
    import os

    from django.core.management import call_command

    make_follow_ups(3)
    cursor, status = tmp_path / "cursor.json", tmp_path / "status.json"
    settings.GUARDRAIL_EXPORT_STATUS_S3_URI = str(status)
    hour_ago = time.time() - 3600
    leftovers = [
        tmp_path / ".cursor.json.0123456789ab.tmp",
        tmp_path / ".status.json.ba9876543210.tmp",
    ]
    kept = [
        tmp_path / ".cursor.json.fedcba987654.tmp",  # fresh: maybe a writer still at work
        tmp_path / ".cursor.json.notes.tmp",  # not a name replace_atomically makes
        tmp_path / ".other.json.0123456789ab.tmp",  # another file's
    ]
    for path in [*leftovers, *kept]:
        path.write_text('{"cursor": "half')
        if path.name != ".cursor.json.fedcba987654.tmp":
            os.utime(path, (hour_ago, hour_ago))

    call_command(
        "export_guardrail_followups",
        "--sink",
        "file",
        "--file-path",
        str(tmp_path / "out.ndjson"),
        "--cursor-store",
        "file",
        "--cursor-store-path",
        str(cursor),
        stderr=open(os.devnull, "w"),  # noqa: SIM115
    )

    assert json.loads(cursor.read_text())["rows"] == 3 and status.exists()
    assert not any(path.exists() for path in leftovers)
    assert all(path.exists() for path in kept)
