"""NDJSON lines, fast, for every JSON value a client may have stored."""

from __future__ import annotations

import json

import orjson


def json_bytes(value: object) -> bytes:
    """Compact JSON, orjson's speed with the standard encoder's range (see ``ndjson_line``)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def ndjson_line(value: object) -> bytes:
    """One JSON document and a newline.

    orjson is several times faster than the standard library, but refuses integers beyond
    64 bits, which a client can legitimately send inside ``metadata`` (jsonb keeps them
    exactly). Such a row falls back to the standard encoder instead of failing the export.
    """
    return json_bytes(value) + b"\n"
