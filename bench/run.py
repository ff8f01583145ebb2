"""``python -m bench [--scale N]``: the whole benchmark suite of issue #7, side by side.

1. Makes a dedicated database (``<name of DATABASE_URL's database>_bench`` on the same
   server, or ``smplat_bench`` on the embedded PostgreSQL without DATABASE_URL), dropped and
   created again at the start of each run, and migrates it.
2. Fills it at 1 000 rows, measures the operator pages, fills it up to ``--scale`` rows
   (default 1 000 000 follow-ups and 1 000 000 onboarding events with their experiment
   segments), measures the pages again, then the exports, the API pages, the capture, and
   the capture's latency while the exporter runs.
3. Prints a table and writes the figures as JSON (``bench/results/latest.json``).

Every measurement is taken against its baseline in the same run on the same database, so
the ratios, not the absolute figures, are what the targets are about.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.load import percentile_ms

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "latest.json"
SMALL_SCALE = 1_000
# Export files go to a private TemporaryDirectory on the tmpfs when there is one.
TMPFS = Path("/dev/shm")  # noqa: S108
# Each side of an export comparison runs this many times, alternating with the other; the
# fastest of each counts. On a shared two-core VM one run of either side can be 30% off.
ROUNDS = 3
# The ceiling a user would write by hand (issue #18): the same row built with PostgreSQL's
# own JSON builder, one COPY read by psql. Its text puts spaces around ':' and ',', so it is
# not the exporter's bytes, but it parses to the same objects (checked on every run).
FOLLOW_UP_JSON_BUILD_OBJECT = """json_build_object(
    'followUpId', id, 'providerId', provider_id, 'providerName', provider_name,
    'action', action, 'notes', notes,
    'platformContext', CASE WHEN COALESCE(platform_context_id, platform_context_label,
        platform_context_handle, platform_context_type) IS NULL THEN NULL ELSE json_build_object(
        'id', platform_context_id, 'label', platform_context_label,
        'handle', platform_context_handle, 'type', platform_context_type) END,
    'conversionCursor', conversion_cursor, 'conversionHref', conversion_href,
    'createdAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text"""
# Quick-order latency while the exporter runs: between an export ending and the next idle
# window, requests in flight finish and the exporter's process exits.
SETTLE_SECONDS = 0.5


# --- The database -----------------------------------------------------------------------------


def server_url() -> str:
    """DATABASE_URL, or the embedded PostgreSQL's URL (started when needed), as the site does."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from smplat.embedded_db import embedded_database_url

    data_dir = Path(os.environ.get("EMBEDDED_POSTGRES_DIR", ROOT / ".data" / "postgres"))
    return embedded_database_url(data_dir)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def maintenance_url(url: str) -> str:
    """The server's ``postgres`` database: the one to be connected to while creating or
    dropping another (DATABASE_URL's own database need not exist yet)."""
    return with_database(url, "postgres")


def recreate_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{total_kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# --- Helpers ----------------------------------------------------------------------------------


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def child_env() -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONUNBUFFERED": "1"}


def run_measured(command: list[str], *, stdout=subprocess.DEVNULL) -> tuple[float, int, int]:
    """Run ``command``; return (wall seconds, peak RSS in bytes, exit status) of that child."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=child_env(), stdout=stdout)  # noqa: S603
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss * 1024, process.returncode


def copy_to_devnull(statement: str) -> tuple[float, int]:
    """``COPY ... TO STDOUT`` read with psycopg on a fresh connection into /dev/null:
    (seconds, bytes)."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    size = 0
    with open(os.devnull, "wb") as sink, psycopg.connect(**params, autocommit=True) as conn:
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(statement) as copy:
            for data in copy:
                size += len(data)
                sink.write(data)
        return time.perf_counter() - started, size


def psql_command() -> list[str] | None:
    """psql on the bench database, quiet, no ~/.psqlrc, stopping at the first error; None
    when psql is not installed."""
    psql = shutil.which("psql") or (
        "/usr/bin/psql" if os.access("/usr/bin/psql", os.X_OK) else None
    )
    if psql is None:
        return None
    return [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", os.environ["DATABASE_URL"]]


def psql_copy_to_devnull(statement: str) -> tuple[float, str]:
    """``COPY ... TO STDOUT`` as a user would run it: psql as a process of its own, its
    output into /dev/null, timed from outside (psql's start included). Without psql, read
    with psycopg instead: (seconds, "psql" or "psycopg (no psql)")."""
    psql = psql_command()
    if psql is None:
        return copy_to_devnull(statement)[0], "psycopg (no psql)"
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        [*psql, "-c", statement], stdout=subprocess.DEVNULL, check=True, env=child_env()
    )
    return time.perf_counter() - started, "psql"


def psql_rows(query: str) -> list[str]:
    """The text of a one-column ``query``'s rows, one a line (unaligned, no headers)."""
    psql = psql_command()
    if psql is None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(query)
            return [row[0] for row in cursor.fetchall()]
    output = subprocess.run(  # noqa: S603
        [*psql, "-A", "-t", "-c", query],
        capture_output=True,
        check=True,
        text=True,
        env=child_env(),
    )
    return output.stdout.splitlines()


def run_exporter(workdir: Path, name: str, limit: int | None = None) -> dict:
    """``export_guardrail_followups`` as cron or CI runs it: a process of its own with the
    file sink (a file in ``workdir``), a fresh file cursor store (so it exports every row
    below the watermark) and its default batch size."""
    from exports.models import ExportRun

    path = workdir / f"follow-ups-{name}.ndjson"
    cursor = workdir / f"cursor-{name}.json"
    command = [
        sys.executable,
        "manage.py",
        "export_guardrail_followups",
        "--sink",
        "file",
        "--file-path",
        str(path),
        "--cursor-store",
        "file",
        "--cursor-store-path",
        str(cursor),
        "--verbosity",
        "0",
    ]
    if limit:
        command += ["--limit", str(limit)]
    seconds, rss, status = run_measured(command)
    if status != 0:
        raise RuntimeError(f"the exporter exited with {status}")
    cursor.unlink(missing_ok=True)
    record = ExportRun.objects.filter(feed="guardrail_followups").latest("id")
    return {
        "seconds": seconds,
        "run_seconds": (record.finished_at - record.started_at).total_seconds(),
        "started": record.started_at.timestamp(),
        "finished": record.finished_at.timestamp(),
        "rss": rss,
        "rows": record.rows,
        "path": path,
    }


def staff_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user_model = get_user_model()
    user = user_model.objects.filter(
        username="bench"
    ).first() or user_model.objects.create_superuser("bench", "bench@example.org", "bench-password")
    client = Client()
    client.force_login(user)
    return client


def api_headers() -> dict[str, str]:
    from django.conf import settings

    return {"HTTP_AUTHORIZATION": f"Bearer {settings.CHECKOUT_API_KEY}"}


def timed_get(client, url: str, *, repeats: int, **extra) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url, **extra)  # warm-up: caches, first-use imports
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    samples, queries = [], []
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, **extra)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code, body[:300])
        queries.append(len(captured.captured_queries))
    return {"ms": median_ms(samples), "queries": max(queries), "bytes": len(body)}


# --- Measurements -----------------------------------------------------------------------------


def measure_operator_pages(repeats: int) -> dict:
    client = staff_client()
    return {
        "reports": timed_get(client, "/admin/reports/", repeats=repeats),
        "onboarding": timed_get(client, "/admin/onboarding/", repeats=repeats),
    }


def measure_export(scale: int, workdir: Path) -> dict:
    """1, 3 and 7: the exporter command against COPY of its own JSON SQL, its peak RSS at
    two sizes, and the command against the json_build_object COPY a user would run in psql.

    The command runs as cron or CI runs it (``run_exporter``); timed from outside (the whole
    process, interpreter and Django start included) and from its ``ExportRun`` (the run
    itself). Both ceilings and the command alternate ``ROUNDS`` times, the fastest of each
    counts. All read below the exporter's watermark: rows strictly before its ``at``.
    """
    from django.conf import settings

    from exports.sinks import FileSink
    from reports.models import GuardrailFollowUp
    from reports.rows import FOLLOW_UP_COLUMNS, FOLLOW_UP_JSON_SQL, follow_up_row
    from smplat.cursors import format_timestamp
    from smplat.ndjson import ndjson_line
    from smplat.watermark import commit_watermark

    hwm = format_timestamp(commit_watermark(settings.EXPORT_SAFETY_LAG_SECONDS).at)
    rows_total = GuardrailFollowUp.objects.filter(created_at__lt=hwm).count()
    where = f"FROM reports_guardrailfollowup WHERE created_at < '{hwm}' ORDER BY created_at, id"
    # The ceiling: the same JSON lines, one COPY, no keyset pages, no file, no checkpoints.
    ceiling_sql = (
        f"COPY (SELECT {FOLLOW_UP_JSON_SQL} {where}) TO STDOUT"
        " WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"
    )

    builder_sql = f"COPY (SELECT {FOLLOW_UP_JSON_BUILD_OBJECT} {where}) TO STDOUT"
    ceilings, builders, exports = [], [], []
    reader = "psql"
    for run in range(ROUNDS):
        ceilings.append(copy_to_devnull(ceiling_sql)[0])
        seconds, reader = psql_copy_to_devnull(builder_sql)
        builders.append(seconds)
        exports.append(run_exporter(workdir, f"all-{run}"))
    ceiling_seconds = min(ceilings)
    builder_seconds = min(builders)
    path = exports[0]["path"]
    with open(path, "rb") as file:
        exported = sum(1 for _ in file)
    if exported != rows_total or any(e["rows"] != rows_total for e in exports):
        raise RuntimeError(f"the exporter wrote {exported} rows, the table holds {rows_total}")
    # The lines are the API's rows, byte for byte: check the first thousand.
    with open(path, "rb") as file:
        head = [next(file) for _ in range(min(1000, exported))]
    expected = [
        ndjson_line(follow_up_row(values))
        for values in GuardrailFollowUp.objects.order_by("created_at", "id").values(
            *FOLLOW_UP_COLUMNS
        )[: len(head)]
    ]
    if head != expected:
        raise RuntimeError("the exported lines differ from the API's rows")
    # The json_build_object ceiling reads the same rows: the same objects, in the same order.
    built = psql_rows(f"SELECT {FOLLOW_UP_JSON_BUILD_OBJECT} {where} LIMIT {len(head)}")
    if [json.loads(line) for line in built] != [json.loads(line) for line in head]:
        raise RuntimeError("the json_build_object ceiling's rows differ from the exporter's")
    for run in exports:
        run["path"].unlink()
    small = max(1, min(100_000, scale // 10))
    smalls = [run_exporter(workdir, f"{small}-{run}", small) for run in range(2)]
    for run in smalls:
        run["path"].unlink()
    ceiling_rate = rows_total / ceiling_seconds
    wall = min(e["seconds"] for e in exports)
    in_run = min(e["run_seconds"] for e in exports)
    large_rss = max(e["rss"] for e in exports)
    small_rss = max(e["rss"] for e in smalls)
    builder_ratio = (rows_total / wall) / (rows_total / builder_seconds)
    return {
        "export": {
            "rows": rows_total,
            "batch_size": FileSink.default_batch_size,
            "file_system": "tmpfs" if workdir.parent == TMPFS else "disk",
            "exporter_seconds": round(wall, 3),
            "exporter_rows_per_s": round(rows_total / wall),
            "exporter_run_seconds": round(in_run, 3),
            "exporter_run_rows_per_s": round(rows_total / in_run),
            "copy_seconds": round(ceiling_seconds, 3),
            "copy_rows_per_s": round(ceiling_rate),
            "ratio": round((rows_total / wall) / ceiling_rate, 3),
            "ratio_run": round((rows_total / in_run) / ceiling_rate, 3),
            "target": 0.85,
            "met": (rows_total / wall) / ceiling_rate >= 0.85,
            "note": "ratio: the whole command as a process (Python and Django start included);"
            " ratio_run: the run as its ExportRun records it",
        },
        "json_build_object": {
            "rows": rows_total,
            "reader": reader,
            "exporter_seconds": round(wall, 3),
            "exporter_rows_per_s": round(rows_total / wall),
            "copy_seconds": round(builder_seconds, 3),
            "copy_rows_per_s": round(rows_total / builder_seconds),
            "ratio": round(builder_ratio, 3),
            "target": 1.3,
            "met": builder_ratio >= 1.3,
            "note": "the exporter's whole process against COPY (SELECT json_build_object(...)"
            "::text ... ORDER BY created_at, id) TO STDOUT run by psql (its start included)"
            " into /dev/null, below the same watermark",
        },
        "memory": {
            "small_rows": small,
            "small_rss_mb": round(small_rss / 2**20, 1),
            "large_rows": rows_total,
            "large_rss_mb": round(large_rss / 2**20, 1),
            "ratio": round(large_rss / small_rss, 3),
            "target": 1.2,
            "target_mb": 120,
            "met": large_rss <= 1.2 * small_rss and large_rss < 120 * 2**20,
        },
    }


def measure_csv() -> dict:
    """2: the CSV download route against COPY ... WITH CSV HEADER."""
    from django.test import Client

    from telemetry.models import PricingExperimentSegment
    from telemetry.rows import SEGMENT_COLUMNS, SEGMENT_CSV_HEADER

    rows_total = PricingExperimentSegment.objects.count()
    columns = ", ".join(
        column if column == name else f"{column} AS {name}"
        for column, name in zip(SEGMENT_COLUMNS, SEGMENT_CSV_HEADER, strict=True)
    )
    ceiling_sql = (
        f"COPY (SELECT {columns} FROM telemetry_pricingexperimentsegment"  # noqa: S608
        " ORDER BY recorded_at, id) TO STDOUT WITH CSV HEADER"
    )
    client = Client()
    ceilings, samples = [], []
    for _ in range(ROUNDS):  # alternating, as the export comparison does
        ceilings.append(copy_to_devnull(ceiling_sql)[0])
        started = time.perf_counter()
        response = client.get(
            "/api/v1/reporting/onboarding/experiment-events", {"format": "csv"}, **api_headers()
        )
        assert response.status_code == 200, response.content[:300]
        lines = 0
        with open(os.devnull, "wb") as sink:
            for chunk in response.streaming_content:
                lines += chunk.count(b"\n")
                sink.write(chunk)
        samples.append(time.perf_counter() - started)
        if lines != rows_total + 1:
            raise RuntimeError(f"the CSV held {lines - 1} rows, the table {rows_total}")
    ceiling_seconds = min(ceilings)
    route_seconds = min(samples)
    ratio = (rows_total / route_seconds) / (rows_total / ceiling_seconds)
    return {
        "rows": rows_total,
        "route_seconds": round(route_seconds, 3),
        "route_rows_per_s": round(rows_total / route_seconds),
        "copy_seconds": round(ceiling_seconds, 3),
        "copy_rows_per_s": round(rows_total / ceiling_seconds),
        "ratio": round(ratio, 3),
        "target": 0.5,
        "met": ratio >= 0.5,
    }


def measure_api_pages(scale: int, repeats: int) -> dict:
    """4: the follow-ups API's first page and a page 90% deep, reached by walking cursors."""
    from django.test import Client

    from reports.selectors import follow_up_timeline
    from smplat.cursors import parse_cursor

    depth = int(scale * 0.9)
    walked, cursor, started = 0, None, time.perf_counter()
    while walked < depth:
        rows, next_cursor = follow_up_timeline(
            cursor=parse_cursor(cursor) if cursor else None, limit=min(500, depth - walked)
        )
        walked += len(rows)
        cursor = next_cursor
        if cursor is None:
            break
    walk_seconds = time.perf_counter() - started
    client = Client()
    url = "/api/v1/reporting/guardrails/followups"
    first = timed_get(client, url, repeats=repeats, **api_headers())
    deep = timed_get(client, f"{url}?cursor={cursor}", repeats=repeats, **api_headers())
    ratio = deep["ms"] / first["ms"]
    return {
        "depth": walked,
        "walk_seconds": round(walk_seconds, 2),
        "first_page_ms": first["ms"],
        "deep_page_ms": deep["ms"],
        "ratio": round(ratio, 3),
        "target": 1.5,
        "met": ratio <= 1.5,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before answering")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


@contextlib.contextmanager
def gunicorn_server(workers: int) -> Iterator[int]:
    """gunicorn serving the site with the bench's URLconf, as in "Running in production";
    yields its port once /healthz answers."""
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(  # noqa: S603
        [
            gunicorn,
            "smplat.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=child_env(),
    )
    try:
        wait_until_up(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def load_command(port: int, path: str, *, clients: int, seconds: float, warmup: float) -> list[str]:
    """``bench.load``'s command line: ``clients`` clients posting to ``path`` with the key."""
    from django.conf import settings

    return [
        sys.executable,
        "-m",
        "bench.load",
        f"http://127.0.0.1:{port}{path}",
        "--key",
        settings.CHECKOUT_API_KEY,
        "--clients",
        str(clients),
        "--seconds",
        str(seconds),
        "--warmup",
        str(warmup),
    ]


def measure_capture(
    *, seconds: float, warmup: float, clients: int, workers: int, rounds: int
) -> dict:
    """6: POST /api/telemetry/quick-order under gunicorn against the bare one-INSERT view."""
    from django.db import connection

    from telemetry.models import WINDOW_TRIM_SLACK, QuickOrderEvent
    from telemetry.services import window_trim

    results: dict[str, list[dict]] = {"bare": [], "capture": []}
    with gunicorn_server(workers) as port:

        def load(path: str) -> dict:
            output = subprocess.run(  # noqa: S603
                load_command(port, path, clients=clients, seconds=seconds, warmup=warmup),
                cwd=ROOT,
                env=child_env(),
                capture_output=True,
                text=True,
                check=True,
            )
            return json.loads(output.stdout)

        for _ in range(rounds):
            results["bare"].append(load("/bench/bare-capture"))
            window_trim(model=QuickOrderEvent)  # the bare view never trims: put the window back
            results["capture"].append(load("/api/telemetry/quick-order"))
    window = QuickOrderEvent.objects.window().count()
    table = QuickOrderEvent.objects.count()
    connection.close()
    bare = statistics.median(r["per_second"] for r in results["bare"])
    capture = statistics.median(r["per_second"] for r in results["capture"])
    errors = sum(r["errors"] for rs in results.values() for r in rs)
    ratio = capture / bare
    bounded = table <= QuickOrderEvent.WINDOW + 2 * WINDOW_TRIM_SLACK
    return {
        "clients": clients,
        "gunicorn_workers": workers,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "bare_per_s": round(bare, 1),
        "capture_per_s": round(capture, 1),
        "errors": errors,
        "window_rows": window,
        "table_rows": table,
        "window_exact": window == QuickOrderEvent.WINDOW,
        "table_bounded": bounded,
        "ratio": round(ratio, 3),
        "target": 0.5,
        "met": ratio >= 0.5 and window == QuickOrderEvent.WINDOW and bounded and not errors,
    }


def measure_capture_under_export(
    *, workdir: Path, seconds: float, warmup: float, clients: int, workers: int, rounds: int
) -> dict:
    """8: the p99 latency of POST /api/telemetry/quick-order while the exporter exports the
    whole follow-up table, against its p99 idle, in the same run on the same server.

    One load process runs ``clients`` clients throughout and records every request's start
    (wall clock) and latency. The bench alternates ``rounds`` times: ``seconds`` idle, then
    the exporter (``run_exporter``: the file sink and its defaults) back to back until its
    runs have lasted ``seconds`` (at a small scale one run is too short for enough samples),
    or until four times that has passed, for tiny scales where the process start is most of
    an export. A request is "during the export" when it starts between an ``ExportRun``'s
    ``started_at`` and ``finished_at``: the process start and exit, between runs, count for
    neither side.
    """
    from exports.sinks import FileSink
    from reports.models import GuardrailFollowUp
    from telemetry.models import QuickOrderEvent

    expected = GuardrailFollowUp.objects.count()
    stop_file = workdir / "capture-load.stop"
    stop_file.unlink(missing_ok=True)
    idle: list[tuple[float, float]] = []
    busy: list[tuple[float, float]] = []
    exports = 0
    with gunicorn_server(workers) as port:
        command = load_command(
            port, "/api/telemetry/quick-order", clients=clients, seconds=3600, warmup=warmup
        )
        load = subprocess.Popen(  # noqa: S603
            [*command, "--stop-file", str(stop_file), "--samples"],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(warmup)
            for round_ in range(rounds):
                began = time.time()
                time.sleep(seconds)
                idle.append((began, time.time()))
                covered, loop_began = 0.0, time.monotonic()
                while covered < seconds and time.monotonic() - loop_began < 4 * seconds:
                    run = run_exporter(workdir, f"under-load-{round_}-{exports}")
                    run["path"].unlink()
                    if run["rows"] != expected:
                        raise RuntimeError(f"the exporter wrote {run['rows']} of {expected} rows")
                    busy.append((run["started"], run["finished"]))
                    covered += run["run_seconds"]
                    exports += 1
                time.sleep(SETTLE_SECONDS)
        finally:
            stop_file.touch()
            output, _ = load.communicate(timeout=120)
    if load.returncode != 0:
        raise RuntimeError(f"the capture clients exited with {load.returncode}")
    samples = json.loads(output)["samples"]

    def within(spans: list[tuple[float, float]]) -> list[tuple[float, bool]]:
        return [
            (latency, ok)
            for started, latency, ok in samples
            if any(begin <= started < end for begin, end in spans)
        ]

    def summary(spans: list[tuple[float, float]]) -> dict:
        chosen = within(spans)
        latencies = [latency for latency, _ in chosen]
        return {
            "seconds": round(sum(end - begin for begin, end in spans), 3),
            "requests": len(chosen),
            "errors": sum(1 for _, ok in chosen if not ok),
            "p50_ms": percentile_ms(latencies, 0.5),
            "p99_ms": percentile_ms(latencies, 0.99),
        }

    quiet, during = summary(idle), summary(busy)
    per_round = []
    for index, span in enumerate(idle):
        # The export runs of round ``index`` lie between its idle window and the next one.
        until = idle[index + 1][0] if index + 1 < len(idle) else float("inf")
        runs = [b for b in busy if span[1] <= b[0] < until]
        per_round.append(
            {"idle_p99_ms": summary([span])["p99_ms"], "export_p99_ms": summary(runs)["p99_ms"]}
        )
    enough = min(quiet["requests"], during["requests"]) >= 100
    ratio = during["p99_ms"] / quiet["p99_ms"] if quiet["p99_ms"] and during["p99_ms"] else None
    errors = quiet["errors"] + during["errors"]
    return {
        "clients": clients,
        "gunicorn_workers": workers,
        "rounds": rounds,
        "export_rows": expected,
        "exports": exports,
        "export_batch_size": FileSink.default_batch_size,
        "idle": quiet,
        "during_export": during,
        "per_round": per_round,
        "enough_samples": enough,
        "window_rows": QuickOrderEvent.objects.window().count(),
        "ratio": round(ratio, 3) if ratio is not None else None,
        "target": 1.3,
        "met": bool(ratio is not None and ratio <= 1.3 and enough and not errors),
        "note": "p99 of requests started while an ExportRun ran, against requests started"
        " in the idle windows between them, one load process throughout",
    }


# --- The report -------------------------------------------------------------------------------


def table(results: dict) -> str:
    m = results["measurements"]
    small, large = results["page_scales"]
    lines = [("measurement", "result", "baseline", "ratio", "target", "met")]
    e = m["export_ndjson"]
    lines.append(
        (
            "1. NDJSON export (rows/s)",
            f"{e['exporter_rows_per_s']:,}",
            f"COPY {e['copy_rows_per_s']:,}",
            f"{e['ratio']:.2f}x",
            ">= 0.85x",
            e["met"],
        )
    )
    c = m["csv_download"]
    lines.append(
        (
            "2. CSV download (rows/s)",
            f"{c['route_rows_per_s']:,}",
            f"COPY {c['copy_rows_per_s']:,}",
            f"{c['ratio']:.2f}x",
            ">= 0.5x",
            c["met"],
        )
    )
    r = m["exporter_memory"]
    lines.append(
        (
            f"3. exporter peak RSS ({r['large_rows']:,} rows)",
            f"{r['large_rss_mb']} MB",
            f"{r['small_rows']:,} rows: {r['small_rss_mb']} MB",
            f"{r['ratio']:.2f}x",
            "<= 1.2x, < 120 MB",
            r["met"],
        )
    )
    a = m["api_pages"]
    lines.append(
        (
            f"4. API page at depth {a['depth']:,}",
            f"{a['deep_page_ms']} ms",
            f"first {a['first_page_ms']} ms",
            f"{a['ratio']:.2f}x",
            "<= 1.5x",
            a["met"],
        )
    )
    for name, page in m["operator_pages"].items():
        lines.append(
            (
                f"5. /admin/{name}/ at {large:,} rows",
                f"{page['large']['ms']} ms, {page['large']['queries']} queries",
                f"{small:,} rows: {page['small']['ms']} ms, {page['small']['queries']} queries",
                f"{page['ratio']:.2f}x",
                "<= 2x, same queries",
                page["met"],
            )
        )
    q = m["capture"]
    lines.append(
        (
            f"6. capture, {q['clients']} clients (req/s)",
            f"{q['capture_per_s']:,}",
            f"bare view {q['bare_per_s']:,}",
            f"{q['ratio']:.2f}x",
            ">= 0.5x, exact window",
            q["met"],
        )
    )
    j = m["export_json_build_object"]
    lines.append(
        (
            "7. NDJSON export (rows/s)",
            f"{j['exporter_rows_per_s']:,}",
            f"json_build_object COPY ({j['reader']}) {j['copy_rows_per_s']:,}",
            f"{j['ratio']:.2f}x",
            ">= 1.3x",
            j["met"],
        )
    )
    u = m["capture_under_export"]
    ratio = f"{u['ratio']:.2f}x" if u["ratio"] is not None else "-"
    lines.append(
        (
            f"8. capture p99, {u['clients']} clients, during export",
            f"{u['during_export']['p99_ms']} ms ({u['during_export']['requests']:,} requests)",
            f"idle {u['idle']['p99_ms']} ms ({u['idle']['requests']:,} requests)",
            ratio,
            "<= 1.3x",
            u["met"],
        )
    )
    cells = [
        [str(cell) if not isinstance(cell, bool) else ("yes" if cell else "NO") for cell in row]
        for row in lines
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    out = []
    for index, row in enumerate(cells):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=1_000_000,
        help="follow-ups and onboarding events to generate (default 1000000)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where the JSON goes (default bench/results/latest.json)",
    )
    parser.add_argument(
        "--database",
        default="smplat_bench",
        help="name of the bench database, dropped and created on the same server",
    )
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    parser.add_argument("--capture-seconds", type=float, default=8.0)
    parser.add_argument("--capture-warmup", type=float, default=1.5)
    parser.add_argument("--capture-rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--export-clients",
        type=int,
        default=16,
        help="capture clients of the latency-during-export measurement (default 16)",
    )
    parser.add_argument(
        "--export-capture-seconds",
        type=float,
        default=6.0,
        help="seconds idle, then seconds of export runs, per round of that measurement",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=4,
        help="gunicorn workers (the README's production command uses 4)",
    )
    parser.add_argument("--repeats", type=int, default=15, help="timed requests per page")
    args = parser.parse_args(argv)
    if args.scale < 8:
        parser.error("--scale must be at least 8")

    started = time.monotonic()
    server = server_url()
    recreate_database(server, args.database)
    os.environ["DATABASE_URL"] = with_database(server, args.database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from bench import data

    def step(text: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {text}", file=sys.stderr, flush=True)

    try:
        step(f"migrating {args.database}")
        call_command("migrate", verbosity=0)
        base = data.time_base()
        small = min(SMALL_SCALE, args.scale // 2) // 4 * 4
        step(f"generating {small:,} rows")
        data.follow_ups(0, small, base)
        data.onboarding(0, small, base)
        data.windows_and_runs()
        data.analyze()
        step("operator pages at the small scale")
        pages_small = measure_operator_pages(args.repeats)
        step(f"generating up to {args.scale:,} rows")
        data.follow_ups(small, args.scale, base)
        data.onboarding(small, args.scale, base)
        data.analyze()
        step("operator pages at the full scale")
        pages_large = measure_operator_pages(args.repeats)
        # The export files go to a tmpfs when there is one: the ceiling writes to /dev/null,
        # so the comparison is about the exporter, not about this machine's disk.
        shm = TMPFS if os.access(TMPFS, os.W_OK) else None
        with tempfile.TemporaryDirectory(prefix="smplat-bench-", dir=shm) as workdir:
            step("NDJSON export against COPY and json_build_object, exporter memory")
            export = measure_export(args.scale, Path(workdir))
            step("capture latency idle and during exports")
            under_export = measure_capture_under_export(
                workdir=Path(workdir),
                seconds=args.export_capture_seconds,
                warmup=args.capture_warmup,
                clients=args.export_clients,
                workers=args.workers,
                rounds=args.capture_rounds,
            )
        step("CSV download against COPY")
        csv_download = measure_csv()
        step("API pages")
        api_pages = measure_api_pages(args.scale, args.repeats)
        step("capture under gunicorn")
        capture = measure_capture(
            seconds=args.capture_seconds,
            warmup=args.capture_warmup,
            clients=args.clients,
            workers=args.workers,
            rounds=args.capture_rounds,
        )
    finally:
        from django.db import connections

        connections.close_all()
        if args.drop:
            drop_database(server, args.database)

    operator_pages = {}
    for name in ("reports", "onboarding"):
        ratio = pages_large[name]["ms"] / pages_small[name]["ms"]
        operator_pages[name] = {
            "small": pages_small[name],
            "large": pages_large[name],
            "ratio": round(ratio, 3),
            "target": 2.0,
            "met": ratio <= 2.0 and pages_large[name]["queries"] == pages_small[name]["queries"],
        }
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": args.scale,
        "page_scales": [small, args.scale],
        "seconds": round(time.monotonic() - started, 1),
        "measurements": {
            "export_ndjson": export["export"],
            "csv_download": csv_download,
            "exporter_memory": export["memory"],
            "api_pages": api_pages,
            "operator_pages": operator_pages,
            "capture": capture,
            "export_json_build_object": export["json_build_object"],
            "capture_under_export": under_export,
        },
    }
    met = [
        export["export"]["met"],
        csv_download["met"],
        export["memory"]["met"],
        api_pages["met"],
        capture["met"],
        export["json_build_object"]["met"],
        under_export["met"],
        *(p["met"] for p in operator_pages.values()),
    ]
    results["all_met"] = all(met)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n{sum(met)}/{len(met)} targets met; JSON in {args.output}")
    return 0
