"""How rows become bytes in NDJSON or CSV files and streams."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from smplat.csvcells import csv_safe
from smplat.ndjson import json_bytes


def csv_column(key: str) -> str:
    """The CSV (data-lake) name of a row's camelCase JSON key: ``offerSlug`` -> ``offer_slug``.

    JSON forms are camelCase (SPEC §3), CSV forms carry the warehouse's snake_case names, as
    the experiment-events CSV always did: one rule for every feed."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _cell(value: Any) -> str:
    """One CSV cell. NULL is an empty cell and any text is quoted (a quote doubled), so that
    empty text ``""`` and NULL read back apart, as in the experiment-events CSV that
    PostgreSQL writes (Python 3.11's writer has no QUOTE_NOTNULL)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict | list):
        text = json_bytes(value).decode()
    else:
        text = str(csv_safe(value))
    return '"' + text.replace('"', '""') + '"'


def csv_lines(rows: Iterable[dict[str, Any]], header: list[str], *, with_header: bool) -> bytes:
    """CSV of the rows' ``header`` keys under their data-lake names; nested values (metadata)
    are JSON text, and text a spreadsheet would run as a formula is neutralised as in the
    API's CSV."""
    lines = [",".join(csv_column(key) for key in header)] if with_header else []
    lines.extend(",".join(_cell(row.get(key)) for key in header) for row in rows)
    return "".join(line + "\n" for line in lines).encode()
