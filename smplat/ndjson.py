"""NDJSON lines, fast, for every JSON value a client may have stored."""

from __future__ import annotations

import json

import orjson


def ndjson_line(value: object) -> bytes:
    """One JSON document and a newline.

    orjson is several times faster than the standard library, but refuses integers beyond
    64 bits, which a client can legitimately send inside ``metadata`` (jsonb keeps them
    exactly). Such a row falls back to the standard encoder instead of failing the export.
    """
    try:
        return orjson.dumps(value) + b"\n"
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
