"""The benchmark suite (``make bench``) runs end to end at a tiny scale, so it cannot rot.

Nothing about speed is asserted here: timings on a shared CI machine prove nothing, and the
figures that matter are the full-scale ones in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.subprocesses import database_url

ROOT = Path(__file__).resolve().parents[2]
MEASUREMENTS = {
    "export_ndjson",
    "csv_download",
    "exporter_memory",
    "api_pages",
    "operator_pages",
    "capture",
    "export_json_build_object",
    "capture_under_export",
}


def test_the_bench_runs_at_a_tiny_scale_and_reports_every_measurement(tmp_path):
    output = tmp_path / "latest.json"
    database = f"smplat_bench_smoke_{uuid.uuid4().hex[:8]}"
    command = [
        sys.executable,
        "-m",
        "bench",
        "--scale",
        "400",
        "--database",
        database,
        "--drop",
        "--output",
        str(output),
        "--repeats",
        "2",
        "--capture-seconds",
        "0.5",
        "--capture-warmup",
        "0.2",
        "--capture-rounds",
        "1",
        "--clients",
        "2",
        "--export-clients",
        "2",
        "--export-capture-seconds",
        "0.5",
        "--workers",
        "1",
    ]
    # The bench makes (and drops) its own database on the test database's server.
    env = {**os.environ, "DATABASE_URL": database_url()}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stderr[-4000:]
    results = json.loads(output.read_text())
    assert set(results["measurements"]) == MEASUREMENTS
    assert results["scale"] == 400
    for name, measurement in results["measurements"].items():
        parts = measurement.values() if name == "operator_pages" else [measurement]
        for part in parts:
            assert {"ratio", "target", "met"} <= set(part), (name, part)
    assert results["measurements"]["export_ndjson"]["rows"] == 400
    assert results["measurements"]["capture"]["window_exact"] is True
    assert "1. NDJSON export" in result.stdout
    assert "6. capture" in result.stdout
    # The json_build_object ceiling read the same rows (the bench checks and raises if not),
    # and capture latency was sampled both idle and while the exporter ran.
    assert results["measurements"]["export_json_build_object"]["rows"] == 400
    under_export = results["measurements"]["capture_under_export"]
    assert under_export["exports"] >= 1
    assert under_export["idle"]["requests"] > 0
    assert under_export["during_export"]["requests"] > 0
    assert "7. NDJSON export" in result.stdout
    assert "8. capture p99" in result.stdout
