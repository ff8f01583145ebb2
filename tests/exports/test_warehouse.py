"""Every export loads into a warehouse with the generated statements: real rows (quotes,
newlines, non-ASCII, formula-like text, nulls in nested objects, tied timestamps, re-sent
batches) exported by the real exporters, loaded into DuckDB, compared value by value with the
source tables; the Snowflake text parses and casts every exported key; docs/warehouse.md is
the command's output."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import sqlglot
from django.core.management import call_command
from sqlglot import exp

from exports.registry import warehouse_tables
from exports.services import ExportOptions, export_feed
from exports.warehouse import (
    DIALECTS,
    create_table_sql,
    load_sql,
    markdown,
    render,
)
from reports.models import GuardrailFollowUp
from reports.rows import FOLLOW_UP_COLUMNS, follow_up_row
from smplat.csvcells import CSV_FORMULA_PREFIXES, csv_safe
from telemetry.feeds import QUICK_ORDER_METRICS_SQL
from telemetry.metrics import QuickOrderMetrics, completion_rate
from telemetry.models import (
    CheckoutOfferEvent,
    GuardrailWorkflowEvent,
    OnboardingJourney,
    OnboardingJourneyEvent,
    PricingExperimentSegment,
    QuickOrderEvent,
)
from telemetry.rows import (
    GUARDRAIL_WORKFLOW_COLUMNS,
    OFFER_EVENT_COLUMNS,
    QUICK_ORDER_COLUMNS,
    SEGMENT_COLUMNS,
    SEGMENT_CSV_HEADER,
    guardrail_workflow_row,
    offer_event_row,
    quick_order_row,
    segment_row,
)
from telemetry.selectors import (
    SegmentFilters,
    experiment_segments_csv,
    guardrail_workflow_export,
    quick_order_export,
)
from tests.exports.conftest import BASE_TIME
from tests.exports.test_encoded_rows import AWKWARD
from tests.factories import GuardrailFollowUpFactory

# Every feed's table, from the feed declarations (the registry the apps fill).
WAREHOUSE_TABLES = warehouse_tables()

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"
FORMULA = CSV_FORMULA_PREFIXES
# A nested value of each kind, nulls inside: JSON columns must come back equal.
METADATA = [{}, {"reason": None, "tags": ["a", None]}, {"n": 1.5, "deep": {"x": None}}, {"ü": "ß"}]


def _text(index: int) -> str:
    return AWKWARD[index % len(AWKWARD)] or "e"


def _at(index: int):
    return BASE_TIME + timedelta(microseconds=5 * (index // 3))  # three rows share each instant


# --- Source rows ---------------------------------------------------------------------------------


def _follow_ups() -> None:
    rows = []
    for index in range(len(AWKWARD) * 2):
        text = _text(index)
        rows.append(
            GuardrailFollowUpFactory.build(
                provider_id=text,
                provider_name=text,
                notes=None if index % 4 == 0 else text,
                # Nested nulls: some context fields null, some contexts null altogether.
                platform_context_id=text if index % 2 else None,
                platform_context_label=None if index % 3 else text,
                platform_context_handle=text if index % 5 else None,
                platform_context_type=None,
                conversion_cursor=text if index % 2 else None,
                conversion_href=None,
                created_at=_at(index),
            )
        )
    random.Random(3).shuffle(rows)
    GuardrailFollowUp.objects.bulk_create(rows)


def _segments() -> None:
    journey = OnboardingJourney.objects.create(order_id=uuid.uuid4(), order_number="SO-1")
    events = [
        OnboardingJourneyEvent.objects.create(journey=journey, event_type="assigned")
        for _ in range(5)
    ]
    # Several experiments per event: event_id repeats, segment_id does not.
    PricingExperimentSegment.objects.bulk_create(
        PricingExperimentSegment(
            event=events[index % 5],
            position=index // 5,
            journey_id=journey.id,
            order_id=journey.order_id,
            order_number=None if index % 4 == 0 else _text(index),
            slug=_text(index),
            variant_key=_text(index + 1),
            variant_name=None if index % 3 == 0 else _text(index + 2),
            is_control=index % 2 == 0,
            status="" if index == 7 else _text(index + 3),  # empty text is not NULL
            feature_flag_key=None if index % 2 else _text(index),
            assignment_strategy=_text(index + 4),
            recorded_at=_at(index),
        )
        for index in range(len(AWKWARD) * 2)
    )


def _offer_events() -> None:
    CheckoutOfferEvent.objects.bulk_create(
        CheckoutOfferEvent(
            offer_slug=_text(index),
            event_type="impression" if index % 2 else "cta_click",
            order_id=None if index % 3 else uuid.uuid4(),
            session_id=None if index % 4 == 0 else "" if index == 5 else _text(index + 1),
            metadata=METADATA[index % len(METADATA)],
            recorded_at=_at(index),
        )
        for index in range(len(AWKWARD) * 2)
    )


def _quick_order_events() -> None:
    names = ["quick_order.start"] * 4 + ["quick_order.complete", "quick_order.abort"]
    QuickOrderEvent.objects.bulk_create(
        QuickOrderEvent(
            session_id=None if index % 5 == 0 else _text(index),
            event_name=names[index % len(names)],
            product_id=_text(index + 1),
            product_title=_text(index + 2),
            platform_context=None if index % 2 else _text(index + 3),
            metadata=METADATA[index % len(METADATA)],
            recorded_at=_at(index),
        )
        for index in range(len(AWKWARD) * 2)
    )


def _guardrail_workflow_events() -> None:
    GuardrailWorkflowEvent.objects.bulk_create(
        GuardrailWorkflowEvent(
            provider_id=None if index % 4 == 0 else _text(index),
            provider_name=None if index % 3 == 0 else _text(index + 1),
            workflow_action=_text(index + 2),
            guardrail_platform_slug=None if index % 2 else _text(index),
            guardrail_status=None if index % 5 else "warning",
            metadata=METADATA[index % len(METADATA)],
            recorded_at=_at(index),
        )
        for index in range(len(AWKWARD) * 2)
    )


# What each table must hold: the source table's rows under the warehouse's column names.
SOURCES = {
    "guardrail_followups": (_follow_ups, GuardrailFollowUp, {"follow_up_id": "id"}),
    "onboarding_pricing_segments": (_segments, PricingExperimentSegment, {"segment_id": "id"}),
    "offer_events": (_offer_events, CheckoutOfferEvent, {"event_id": "id"}),
    "quick_order_telemetry": (_quick_order_events, QuickOrderEvent, {}),
    "guardrail_workflow_telemetry": (_guardrail_workflow_events, GuardrailWorkflowEvent, {}),
}


def _expected(feed: str) -> dict:
    table = WAREHOUSE_TABLES[feed]
    _, model, renamed = SOURCES[feed]
    rows = {}
    for values in model.objects.values():
        row = {}
        for column in table.columns:
            if column.name == "name":
                row["name"] = "guardrail.workflow"  # the capture's event name
            else:
                row[column.name] = values[renamed.get(column.name, column.name)]
        rows[row[table.merge_key]] = row
    return rows


# --- Exports, as each form lands -----------------------------------------------------------------


def _export_ndjson(feed: str, folder: Path) -> None:
    """The feed's NDJSON, sent twice (a batch re-sent after a crash) into a day's folder."""
    if feed in ("quick_order_telemetry", "guardrail_workflow_telemetry"):
        window = (
            quick_order_export if feed == "quick_order_telemetry" else guardrail_workflow_export
        )
        # Two snapshots of the window (what the capture route serves and the workflow
        # uploads byte for byte): the second overlaps the first entirely.
        for name in ("a", "b"):
            (folder / f"{name}.ndjson").write_bytes(b"".join(window().lines))
        return
    for name in ("a", "b"):
        export_feed(
            feed=feed,
            options=ExportOptions(
                sink="file", file_path=str(folder / f"{name}.ndjson"), batch_size=7
            ),
        )


def _export_webhook(feed: str, folder: Path, httpserver) -> None:
    """Webhook bodies as a bridge stores them, one a file; the whole export sent twice."""
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    for _ in range(2):
        export_feed(
            feed=feed,
            options=ExportOptions(
                sink="webhook", webhook_url=httpserver.url_for("/hook"), batch_size=7
            ),
        )
    for number, (request, _) in enumerate(httpserver.log):
        (folder / f"{number:03}.json").write_bytes(request.get_data())
    assert len(httpserver.log) > 2


def _export_csv(feed: str, folder: Path) -> None:
    if feed == "onboarding_pricing_segments":
        body = b"".join(experiment_segments_csv(filters=SegmentFilters(), batch_size=7))
        for name in ("a", "b"):  # downloaded twice: the same rows again
            (folder / f"{name}.csv").write_bytes(body)
        return
    for name in ("a", "b"):
        export_feed(
            feed=feed,
            options=ExportOptions(
                sink="file", file_path=str(folder / f"{name}.csv"), format="csv", batch_size=7
            ),
        )


def _load(feed: str, form, folder: Path) -> tuple[duckdb.DuckDBPyConnection, list[dict]]:
    table = WAREHOUSE_TABLES[feed]
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    glob = str(
        folder / ("*.csv" if form.kind == "csv" else "*.json" if form.envelope else "*.ndjson")
    )
    statements = create_table_sql(table, "duckdb") + load_sql(table, form, "duckdb", source=glob)
    for statement in statements:
        connection.execute(statement)
    # Loading the same files again changes nothing: the upsert is keyed.
    for statement in load_sql(table, form, "duckdb", source=glob):
        connection.execute(statement)
    names = [column.name for column in table.columns]
    loaded = [
        dict(zip(names, values, strict=True))
        for values in connection.execute(f"SELECT {', '.join(names)} FROM {table.table}").fetchall()  # noqa: S608
    ]
    for row in loaded:
        for column in table.columns:
            if column.type == "JSON" and row[column.name] is not None:
                row[column.name] = json.loads(row[column.name])
    return connection, loaded


FORMS = [
    pytest.param(feed, form.kind, id=f"{feed}-{form.kind}")
    for feed, table in WAREHOUSE_TABLES.items()
    for form in table.forms
]


@pytest.mark.parametrize(("feed", "kind"), FORMS)
def test_every_form_of_every_feed_loads_into_duckdb_with_every_value_equal(
    feed, kind, tmp_path, httpserver
):
    table = WAREHOUSE_TABLES[feed]
    form = next(form for form in table.forms if form.kind == kind)
    SOURCES[feed][0]()
    folder = tmp_path / "day"
    folder.mkdir()
    if kind == "ndjson":
        _export_ndjson(feed, folder)
    elif kind == "envelope":
        _export_webhook(feed, folder, httpserver)
    else:
        _export_csv(feed, folder)
        header = next(csv.reader(io.StringIO((folder / "a.csv").read_text())))
        assert header == [column.name for column in table.columns]  # the data-lake names

    connection, loaded = _load(feed, form, folder)

    expected = _expected(feed)
    # Every source row once: the re-sent rows did not double, no two rows shared a key.
    assert len(loaded) == len(expected) == SOURCES[feed][1].objects.count()
    got = {row[table.merge_key]: row for row in loaded}
    assert got.keys() == expected.keys()
    if kind != "csv":
        assert got == expected
        return
    # The CSV formula guard is the one difference, and exactly where the guard applies.
    differing = {
        (key, name)
        for key, row in expected.items()
        for name, value in row.items()
        if got[key][name] != value
    }
    guarded = {
        (key, name)
        for key, row in expected.items()
        for name, value in row.items()
        if isinstance(value, str) and value.startswith(FORMULA)
    }
    assert differing == guarded and guarded
    assert all(got[key][name] == csv_safe(expected[key][name]) for key, name in guarded)
    connection.close()


def test_a_keyed_segment_load_keeps_every_experiment_of_an_event(tmp_path):
    _segments()
    (tmp_path / "a.ndjson").write_bytes(b"")
    export_feed(
        feed="onboarding_pricing_segments",
        options=ExportOptions(sink="file", file_path=str(tmp_path / "a.ndjson")),
    )
    form = WAREHOUSE_TABLES["onboarding_pricing_segments"].forms[0]

    _, loaded = _load("onboarding_pricing_segments", form, tmp_path)

    assert len(loaded) == PricingExperimentSegment.objects.count()
    assert len({row["event_id"] for row in loaded}) < len(loaded)  # event_id repeats


def test_quick_order_status_metrics_equal_the_metrics_recomputed_from_the_loaded_snapshot(
    tmp_path,
):
    _quick_order_events()
    snapshot = b"".join(quick_order_export().lines)
    (tmp_path / "snapshot.ndjson").write_bytes(snapshot)
    metrics = QuickOrderMetrics()
    for line in snapshot.splitlines():
        metrics.add(json.loads(line))
    form = WAREHOUSE_TABLES["quick_order_telemetry"].forms[0]

    connection, _ = _load("quick_order_telemetry", form, tmp_path)

    start, abort, complete, rate = connection.execute(QUICK_ORDER_METRICS_SQL).fetchone()
    assert {
        "startCount": start,
        "abortCount": abort,
        "completeCount": complete,
        "completionRate": float(rate),
    } == metrics.result()


# (starts, completes): exact ties of one decimal (49/400 is 12.25), and repeating decimals.
RATE_CASES = [(400, 49), (400, 51), (8, 1), (40, 1), (200, 1), (3, 1), (6, 1), (7, 7), (9, 0)]


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_completion_rate_rounds_as_the_warehouse_query_does_on_ties(engine):
    from django.db import connection

    expected = [completion_rate(starts, completes) for starts, completes in RATE_CASES]
    got = []
    for starts, completes in RATE_CASES:
        rows = [("quick_order.start",)] * starts + [("quick_order.complete",)] * completes
        if engine == "duckdb":
            db = duckdb.connect()
            db.execute("CREATE SCHEMA analytics")
            db.execute("CREATE TABLE analytics.quick_order_events (event_name TEXT)")
            db.executemany("INSERT INTO analytics.quick_order_events VALUES (?)", rows)
            got.append(float(db.execute(QUICK_ORDER_METRICS_SQL).fetchone()[3]))
            db.close()
        else:
            with connection.cursor() as cursor:
                cursor.execute("CREATE SCHEMA IF NOT EXISTS analytics")
                cursor.execute("DROP TABLE IF EXISTS analytics.quick_order_events")
                cursor.execute("CREATE TABLE analytics.quick_order_events (event_name TEXT)")
                cursor.executemany("INSERT INTO analytics.quick_order_events VALUES (%s)", rows)
                cursor.execute(QUICK_ORDER_METRICS_SQL)
                got.append(float(cursor.fetchone()[3]))
    assert got == expected
    assert expected[:2] == [12.3, 12.8]  # half away from zero, not Python's half-even 12.2


# --- The declaration cannot drift from the export --------------------------------------------


def _sample_rows() -> dict[str, dict]:
    """One exported row of each feed with every nested object present."""
    follow_up = GuardrailFollowUpFactory(
        platform_context_id="ig",
        platform_context_label="l",
        platform_context_handle="h",
        platform_context_type="t",
    )
    _segments()
    _offer_events()
    _quick_order_events()
    _guardrail_workflow_events()
    workflow = GuardrailWorkflowEvent.objects.exclude(guardrail_platform_slug=None).values(
        *GUARDRAIL_WORKFLOW_COLUMNS
    )[0]
    return {
        "guardrail_followups": follow_up_row(
            GuardrailFollowUp.objects.filter(pk=follow_up.pk).values(*FOLLOW_UP_COLUMNS)[0]
        ),
        "onboarding_pricing_segments": segment_row(
            PricingExperimentSegment.objects.values(*SEGMENT_COLUMNS)[0]
        ),
        "offer_events": offer_event_row(CheckoutOfferEvent.objects.values(*OFFER_EVENT_COLUMNS)[0]),
        "quick_order_telemetry": quick_order_row(
            QuickOrderEvent.objects.values(*QUICK_ORDER_COLUMNS)[0]
        ),
        "guardrail_workflow_telemetry": guardrail_workflow_row(workflow),
    }


def _leaf_keys(row: dict, json_columns: set[str], prefix: tuple = ()) -> set[tuple[str, ...]]:
    keys = set()
    for key, value in row.items():
        path = (*prefix, key)
        if isinstance(value, dict) and path not in json_columns:
            keys |= _leaf_keys(value, json_columns, path)
        else:
            keys.add(path)
    return keys


def test_declared_json_keys_are_exactly_the_keys_the_serialisers_emit():
    samples = _sample_rows()
    assert set(samples) == set(WAREHOUSE_TABLES)
    for feed, row in samples.items():
        table = WAREHOUSE_TABLES[feed]
        json_columns = {column.key for column in table.columns if column.type == "JSON"}
        declared = [column.key for column in table.columns]
        assert len(declared) == len(set(declared)), feed
        assert set(declared) == _leaf_keys(row, json_columns), feed
    # The segment CSV header is the declared table, column for column.
    assert list(SEGMENT_CSV_HEADER) == [
        column.name for column in WAREHOUSE_TABLES["onboarding_pricing_segments"].columns
    ]


# --- Snowflake: what can be checked without Snowflake ------------------------------------------


@pytest.mark.parametrize(("feed", "kind"), FORMS)
def test_snowflake_statements_parse_name_every_column_once_and_cast_every_key(feed, kind):
    table = WAREHOUSE_TABLES[feed]
    form = next(form for form in table.forms if form.kind == kind)
    names = [column.name for column in table.columns]
    statements = [
        sqlglot.parse_one(text, read="snowflake")
        for text in create_table_sql(table, "snowflake") + load_sql(table, form, "snowflake")
    ]
    # The row-building SELECT: the COPY's transformation, or the flattening INSERT.
    loader = next(
        select
        for statement in statements
        if isinstance(statement, exp.Copy | exp.Insert)
        for select in statement.find_all(exp.Select)
    )
    aliases = [expression.alias for expression in loader.expressions]
    assert aliases == names
    for column, expression in zip(table.columns, loader.expressions, strict=True):
        cast = expression.this
        assert isinstance(cast, exp.Cast), column.name
        if kind == "csv":
            position = table.columns.index(column) + 1
            assert cast.this.sql("snowflake") == f"${position}"
        else:
            path = cast.this.expression.sql("snowflake").strip("'")
            assert path == column.json_key, column.name
    merge = statements[-1]
    assert isinstance(merge, exp.Merge)
    assert merge.args["on"].sql("snowflake") == f"t.{table.merge_key} = s.{table.merge_key}"


# --- The text: command and docs --------------------------------------------------------------


def test_docs_warehouse_md_is_the_commands_output():
    out = io.StringIO()
    call_command("warehouse_sql", "--markdown", stdout=out)
    assert out.getvalue() == markdown(WAREHOUSE_TABLES.values())
    assert DOCS.read_text() == out.getvalue(), (
        "regenerate: python manage.py warehouse_sql --markdown > docs/warehouse.md"
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_command_prints_one_feed_or_all_of_them(dialect):
    out = io.StringIO()
    call_command("warehouse_sql", "--dialect", dialect, "--feed", "offer_events", stdout=out)
    assert out.getvalue() == render(dialect, [WAREHOUSE_TABLES["offer_events"]])
    assert "analytics.checkout_offer_events" in out.getvalue()
    assert "guardrail_followups" not in out.getvalue()
    everything = io.StringIO()
    call_command("warehouse_sql", "--dialect", dialect, stdout=everything)
    for table in WAREHOUSE_TABLES.values():
        assert f"CREATE TABLE IF NOT EXISTS {table.table}" in everything.getvalue()


@pytest.mark.parametrize(("feed", "kind"), FORMS)
def test_the_postgres_statements_load_every_form_with_every_value_equal(
    feed, kind, tmp_path, httpserver
):
    from django.db import connection

    table = WAREHOUSE_TABLES[feed]
    form = next(form for form in table.forms if form.kind == kind)
    SOURCES[feed][0]()
    folder = tmp_path / "day"
    folder.mkdir()
    {"ndjson": _export_ndjson, "csv": _export_csv}.get(
        kind, lambda feed, folder: _export_webhook(feed, folder, httpserver)
    )(feed, folder)
    files = sorted(folder.iterdir())

    with connection.cursor() as cursor:
        for statement in create_table_sql(table, "postgres"):
            cursor.execute(statement)
        for _ in range(2):  # loaded twice: nothing doubles
            for statement in load_sql(table, form, "postgres"):
                if statement.startswith("COPY"):
                    with cursor.cursor.copy(statement) as copy:
                        for path in files:
                            data = path.read_bytes()
                            if kind == "csv" and path != files[0]:
                                data = data.split(b"\n", 1)[1]  # one header per COPY
                            copy.write(data if data.endswith(b"\n") else data + b"\n")
                else:
                    cursor.execute(statement)
        names = [column.name for column in table.columns]
        cursor.execute(f"SELECT {', '.join(names)} FROM {table.table}")  # noqa: S608
        loaded = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in loaded:  # Django's connection hands JSONB over as text
        for column in table.columns:
            if column.type == "JSON" and row[column.name] is not None:
                row[column.name] = json.loads(row[column.name])

    expected = _expected(feed)
    assert len(loaded) == len(expected) == SOURCES[feed][1].objects.count()
    got = {row[table.merge_key]: row for row in loaded}
    if kind == "csv":
        expected = {
            key: {name: csv_safe(value) for name, value in row.items()}
            for key, row in expected.items()
        }
    assert got == expected
