"""How rows become bytes in NDJSON or CSV files and streams."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from smplat.csvcells import csv_safe
from smplat.ndjson import json_bytes


def csv_lines(rows: Iterable[dict[str, Any]], header: list[str], *, with_header: bool) -> bytes:
    """CSV with ``header`` as columns; nested values (metadata) are JSON text, and text a
    spreadsheet would run as a formula is neutralised as in the API's CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if with_header:
        writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                json_bytes(value).decode() if isinstance(value, dict | list) else csv_safe(value)
                for value in (row.get(column) for column in header)
            ]
        )
    return buffer.getvalue().encode()
