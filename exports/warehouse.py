"""The warehouse side of every feed: the table an export lands in (the data-lake columns and
types), the JSON key or CSV column each column comes from, the key a MERGE uses, and the load
statements of every form the feed ships in, for Snowflake, DuckDB and PostgreSQL.

``manage.py warehouse_sql`` prints them and docs/warehouse.md is that output; the tests load
real exports into DuckDB with exactly these statements and compare every value.

Column style: JSON forms (NDJSON files, S3 objects, webhook bodies, telemetry snapshots) use
camelCase keys, as the API does (SPEC §3); CSV forms and the tables use the data-lake's
snake_case names. ``key`` below is the one mapping between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

TYPES = {
    "snowflake": {
        # Snowflake has no UUID type: a UUID is its 36-character text.
        "UUID": "VARCHAR(36)",
        "TEXT": "VARCHAR",
        "BOOLEAN": "BOOLEAN",
        "TIMESTAMPTZ": "TIMESTAMP_TZ",
        "JSON": "VARIANT",
        "BIGINT": "NUMBER(19, 0)",
    },
    "duckdb": {
        "UUID": "UUID",
        "TEXT": "VARCHAR",
        "BOOLEAN": "BOOLEAN",
        "TIMESTAMPTZ": "TIMESTAMPTZ",
        "JSON": "JSON",
        "BIGINT": "BIGINT",
    },
    "postgres": {
        "UUID": "UUID",
        "TEXT": "TEXT",
        "BOOLEAN": "BOOLEAN",
        "TIMESTAMPTZ": "TIMESTAMPTZ",
        "JSON": "JSONB",
        "BIGINT": "BIGINT",
    },
}
DIALECTS = tuple(TYPES)
# The day the printed statements load; replace it with the day you load.
EXAMPLE_DAY = "2026/01/22"


@dataclass(frozen=True)
class Column:
    name: str  # the data-lake (and CSV) name
    type: str  # a key of TYPES[dialect]
    key: tuple[str, ...]  # where it sits in the exported JSON row: ("platformContext", "id")

    @property
    def json_key(self) -> str:
        return ".".join(self.key)


@dataclass(frozen=True)
class Form:
    """One way a feed's rows land: NDJSON (``ndjson``), webhook bodies ``{envelope: [rows]}``
    one a file (``envelope``), or CSV with the data-lake header (``csv``)."""

    kind: str
    title: str
    path: str  # under the feed's stage / local copy, for EXAMPLE_DAY
    pattern: str  # the files' names
    envelope: str | None = None


@dataclass(frozen=True)
class WarehouseTable:
    feed: str
    table: str
    stage: str  # the Snowflake stage, at the S3 root the sinks write under
    columns: tuple[Column, ...]
    merge_key: str
    timestamp: str  # the order of the export (with the merge key): parity and de-duplication
    forms: tuple[Form, ...]
    notes: str = ""
    # More parity checks of the feed's own (the quick-order status metrics, recomputed).
    extra_parity: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        return self.table.split(".")[-1]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


def column(name: str, type_: str, key: str | None = None) -> Column:
    """``key`` defaults to the camelCase of ``name``; a dotted key is a nested one."""
    if key is None:
        head, *rest = name.split("_")
        key = head + "".join(part.capitalize() for part in rest)
    return Column(name, type_, tuple(key.split(".")))


def ndjson_form(folder: str, title: str) -> Form:
    return Form("ndjson", title, f"{folder}/{EXAMPLE_DAY}/", r".*[.]ndjson")


def webhook_form(feed: str, envelope: str) -> Form:
    return Form(
        "envelope",
        f'webhook bodies {{"{envelope}": [...]}}, one a file, as a bridge stores them',
        f"{feed}/webhook/{EXAMPLE_DAY}/",
        r".*[.]json",
        envelope=envelope,
    )


# --- Statements ------------------------------------------------------------------------------


def _column_definitions(table: WarehouseTable, dialect: str) -> str:
    return ",\n".join(f"  {column.name} {TYPES[dialect][column.type]}" for column in table.columns)


def create_table_sql(table: WarehouseTable, dialect: str) -> list[str]:
    # Snowflake records the primary key but does not enforce it: the MERGE keeps it true.
    return [
        "CREATE SCHEMA IF NOT EXISTS analytics",
        f"CREATE TABLE IF NOT EXISTS {table.table} (\n{_column_definitions(table, dialect)},\n"
        f"  PRIMARY KEY ({table.merge_key})\n)",
    ]


def _names(table: WarehouseTable, prefix: str = "") -> str:
    return ", ".join(prefix + column.name for column in table.columns)


def _updates(table: WarehouseTable, target: str, source: str) -> str:
    return ", ".join(
        f"{target}{column.name} = {source}.{column.name}"
        for column in table.columns
        if column.name != table.merge_key
    )


def _upsert(table: WarehouseTable, select: str, dialect: str) -> str:
    """Insert-or-update ``select``'s rows (the table's columns, in order) by the merge key,
    one row per key even when a re-sent batch brings it twice."""
    key, ts = table.merge_key, table.timestamp
    if dialect == "postgres":
        return (
            f"INSERT INTO {table.table} ({_names(table)})\n"
            f"SELECT DISTINCT ON ({key}) * FROM (\n{select}\n) AS loaded\n"
            f"ORDER BY {key}, {ts} DESC\n"
            f"ON CONFLICT ({key}) DO UPDATE SET {_updates(table, '', 'excluded')}"
        )
    return (  # duckdb
        f"INSERT INTO {table.table} ({_names(table)})\n"
        f"SELECT * FROM (\n{select}\n) AS loaded\n"
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {ts} DESC) = 1\n"
        f"ON CONFLICT ({key}) DO UPDATE SET {_updates(table, '', 'excluded')}"
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _duckdb_struct(table: WarehouseTable) -> list[tuple[str, str]]:
    """(top-level key, DuckDB type) of a JSON row, nested objects as STRUCTs."""
    fields: dict[str, list[tuple[str, str]] | str] = {}
    for column in table.columns:
        kind = TYPES["duckdb"][column.type]
        if len(column.key) == 1:
            fields[column.key[0]] = kind
        else:
            fields.setdefault(column.key[0], []).append((column.key[1], kind))
    return [
        (
            key,
            kind
            if isinstance(kind, str)
            else "STRUCT(" + ", ".join(f"{_quote(sub)} {t}" for sub, t in kind) + ")",
        )
        for key, kind in fields.items()
    ]


def _duckdb_select(table: WarehouseTable, row: str) -> str:
    return ",\n".join(
        f"  {row}" + "".join(f".{_quote(part)}" for part in column.key) + f" AS {column.name}"
        for column in table.columns
    )


def _duckdb_load(table: WarehouseTable, form: Form, source: str) -> list[str]:
    path = _literal(source)
    if form.kind == "csv":
        columns = ", ".join(
            f"{_literal(column.name)}: {_literal(TYPES['duckdb'][column.type])}"
            for column in table.columns
        )
        # An empty cell is NULL, a quoted empty cell "" is empty text (allow_quoted_nulls).
        select = (
            f"SELECT {_names(table)}\nFROM read_csv({path}, header = true, delim = ',',"
            f" quote = '\"', escape = '\"',\n  allow_quoted_nulls = false,"
            f" columns = {{{columns}}})"
        )
        return [_upsert(table, select, "duckdb")]
    struct = ", ".join(f"{_literal(key)}: {_literal(kind)}" for key, kind in _duckdb_struct(table))
    if form.kind == "ndjson":
        select = (
            f"SELECT\n{_duckdb_select(table, 'line')}\nFROM read_json({path},"
            f" format = 'newline_delimited',\n  columns = {{{struct}}}) AS line"
        )
    else:
        element = ", ".join(f"{_quote(key)} {kind}" for key, kind in _duckdb_struct(table))
        rows = f"STRUCT({element})[]"
        select = (
            f"SELECT\n{_duckdb_select(table, 'line')}\nFROM (\n  SELECT unnest(body.{_quote(form.envelope)}) AS line\n"
            f"  FROM read_json({path}, format = 'auto',\n"
            f"    columns = {{{_literal(form.envelope)}: {_literal(rows)}}}) AS body\n)"
        )
    return [_upsert(table, select, "duckdb")]


def _postgres_value(column: Column, row: str) -> str:
    path = "".join(f"->{_literal(part)}" for part in column.key[:-1])
    if column.type == "JSON":
        # A JSON null is SQL NULL, as in the source table.
        return f"NULLIF({row}{path}->{_literal(column.key[-1])}, 'null')"
    value = f"{row}{path}->>{_literal(column.key[-1])}"
    return f"({value})::{TYPES['postgres'][column.type]}"


def _postgres_load(table: WarehouseTable, form: Form) -> list[str]:
    scratch = f"{table.short_name}_{form.kind}_load"
    if form.kind == "csv":
        return [
            f"CREATE TEMPORARY TABLE {scratch} (LIKE {table.table})",
            f"COPY {scratch} ({_names(table)}) FROM STDIN WITH (FORMAT csv, HEADER true)",
            _upsert(table, f"SELECT {_names(table)} FROM {scratch}", "postgres"),
            f"DROP TABLE {scratch}",
        ]
    select = ",\n".join(
        f"  {_postgres_value(column, 'line')} AS {column.name}" for column in table.columns
    )
    if form.kind == "ndjson":
        source = f"SELECT\n{select}\nFROM {scratch} AS loaded_lines(line)"
    else:
        source = (
            f"SELECT\n{select}\nFROM {scratch} AS bodies(body),\n"
            f"  jsonb_array_elements(body->{_literal(form.envelope)}) AS rows(line)"
        )
    # Text COPY would read the JSON's backslashes as escapes: CSV with quote and delimiter
    # characters that JSON text never holds raw takes each line whole.
    return [
        f"CREATE TEMPORARY TABLE {scratch} (line JSONB)",
        f"COPY {scratch} (line) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')",
        _upsert(table, source, "postgres"),
        f"DROP TABLE {scratch}",
    ]


def _snowflake_value(column: Column, row: str) -> str:
    return f"{row}:" + ".".join(column.key) + f"::{TYPES['snowflake'][column.type]}"


def _snowflake_load(table: WarehouseTable, form: Form) -> list[str]:
    load = f"{table.table}_load"
    stage = f"{table.stage}/{form.path}"
    statements = [
        f"CREATE OR REPLACE TEMPORARY TABLE {load} (\n{_column_definitions(table, 'snowflake')}\n)"
    ]
    if form.kind == "csv":
        select = ",\n".join(
            f"  ${position}::{TYPES['snowflake'][column.type]} AS {column.name}"
            for position, column in enumerate(table.columns, start=1)
        )
        statements.append(
            f"COPY INTO {load} ({_names(table)})\nFROM (SELECT\n{select}\nFROM {stage})\n"
            f"PATTERN = {_literal(form.pattern)}\n"
            "FILE_FORMAT = (TYPE = 'CSV' SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"'"
            " EMPTY_FIELD_AS_NULL = TRUE NULL_IF = ())\nON_ERROR = 'ABORT_STATEMENT'"
        )
    elif form.kind == "ndjson":
        select = ",\n".join(
            f"  {_snowflake_value(column, '$1')} AS {column.name}" for column in table.columns
        )
        statements.append(
            f"COPY INTO {load} ({_names(table)})\nFROM (SELECT\n{select}\nFROM {stage})\n"
            f"PATTERN = {_literal(form.pattern)}\nFILE_FORMAT = (TYPE = 'JSON')\n"
            "ON_ERROR = 'ABORT_STATEMENT'"
        )
    else:
        # COPY cannot FLATTEN: the bodies land whole, then their rows are unpacked.
        bodies = f"{table.table}_bodies"
        select = ",\n".join(
            f"  {_snowflake_value(column, 'element.value')} AS {column.name}"
            for column in table.columns
        )
        statements += [
            f"CREATE OR REPLACE TEMPORARY TABLE {bodies} (body VARIANT)",
            f"COPY INTO {bodies}\nFROM {stage}\nPATTERN = {_literal(form.pattern)}\n"
            "FILE_FORMAT = (TYPE = 'JSON')\nON_ERROR = 'ABORT_STATEMENT'",
            f"INSERT INTO {load} ({_names(table)})\nSELECT\n{select}\nFROM {bodies} AS bodies,\n"
            f"  LATERAL FLATTEN(input => bodies.body:{form.envelope}) AS element",
        ]
    key, ts = table.merge_key, table.timestamp
    statements.append(
        f"MERGE INTO {table.table} AS t\nUSING (\n  SELECT * FROM {load}\n"
        f"  QUALIFY ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {ts} DESC) = 1\n) AS s\n"
        f"ON t.{key} = s.{key}\n"
        f"WHEN MATCHED THEN UPDATE SET {_updates(table, 't.', 's')}\n"
        f"WHEN NOT MATCHED THEN INSERT ({_names(table)})\n"
        f"  VALUES ({_names(table, 's.')})"
    )
    return statements


def example_source(form: Form) -> str:
    """The local files a DuckDB load reads in the printed text: a day's copy of the stage."""
    return form.path + (
        "*.csv" if form.kind == "csv" else "*.json" if form.envelope else "*.ndjson"
    )


def load_sql(
    table: WarehouseTable, form: Form, dialect: str, *, source: str | None = None
) -> list[str]:
    """The statements that load one batch of ``form`` files idempotently: re-running them on
    the same or overlapping files leaves one row per merge key. ``source`` (DuckDB only) is
    the files to read, a path or glob."""
    if dialect == "snowflake":
        return _snowflake_load(table, form)
    if dialect == "postgres":
        return _postgres_load(table, form)
    return _duckdb_load(table, form, source or example_source(form))


def parity_sql(table: WarehouseTable) -> list[str]:
    """What to compare with the export: the row count, and the last row in export order
    (for row feeds, the cursor file's ``<timestamp>~<id>`` names that row)."""
    statements = [
        f"SELECT count(*) AS row_count FROM {table.table}",
        f"SELECT {table.timestamp}, {table.merge_key} FROM {table.table}\n"
        f"ORDER BY {table.timestamp} DESC, {table.merge_key} DESC\nLIMIT 1",
    ]
    statements.extend(table.extra_parity)
    return statements


def render(dialect: str, tables: Iterable[WarehouseTable]) -> str:
    """The text ``warehouse_sql`` prints: per feed its table, merge key and load statements."""
    out = []
    for table in tables:
        out.append(f"-- ===== {table.feed}: {table.table} =====")
        out.append(f"-- merge key: {table.merge_key}")
        if table.notes:
            out.append(f"-- {table.notes}")
        out.extend(statement + ";" for statement in create_table_sql(table, dialect))
        for form in table.forms:
            out.append("")
            where = (
                f"{table.stage}/{form.path}"
                if dialect == "snowflake"
                else "standard input (psql: cat the files | psql -c ...)"
                if dialect == "postgres"
                else example_source(form)
            )
            out.append(f"-- load: {form.title}, from {where}")
            out.extend(statement + ";" for statement in load_sql(table, form, dialect))
        out.append("")
        out.append("-- parity: compare with the cursor file / status snapshot")
        out.extend(statement + ";" for statement in parity_sql(table))
        out.append("")
    return "\n".join(out)


_DIALECT_TITLES = {"snowflake": "Snowflake", "duckdb": "DuckDB", "postgres": "PostgreSQL"}

MARKDOWN_INTRO = """# Warehouse tables and load statements

Generated by `python manage.py warehouse_sql --markdown > docs/warehouse.md` from the feed
declarations (`reports/feeds.py`, `telemetry/feeds.py`); a test fails when this file and the
command differ. Each section is `python manage.py warehouse_sql --dialect <dialect>`.

Every load is idempotent: files are read into a scratch table, de-duplicated by the merge
key, then merged (`MERGE` on Snowflake, `INSERT ... ON CONFLICT` on DuckDB and PostgreSQL),
so a batch the exporter re-sent after a crash, or overlapping telemetry snapshots, never
doubles a row. JSON forms carry camelCase keys (the API's style), CSV forms the table's
snake_case names. The CSV forms prefix text starting with `=`, `+`, `-`, `@`, a tab, a
carriage return or a line feed with `'` (spreadsheet formula guard): load the NDJSON for the
exact text. Snowflake has no UUID type, so UUIDs are `VARCHAR(36)` there.

| feed | table | merge key | forms |
| --- | --- | --- | --- |
"""


def markdown(tables: Iterable[WarehouseTable]) -> str:
    tables = list(tables)
    rows = [
        f"| `{t.feed}` | `{t.table}` | `{t.merge_key}` | {'; '.join(f.title for f in t.forms)} |"
        for t in tables
    ]
    parts = [MARKDOWN_INTRO + "\n".join(rows) + "\n"]
    for dialect in DIALECTS:
        parts.append(f"## {_DIALECT_TITLES[dialect]}\n\n```sql\n{render(dialect, tables)}```\n")
    return "\n".join(parts)
