"""The one JSON shape of a guardrail follow-up row: the API, the NDJSON and webhook exports
and Slack all emit exactly this, so BI tables match what operators saw."""

from __future__ import annotations

from typing import Any

from smplat.cursors import format_timestamp

# What to fetch with ``.values(*FOLLOW_UP_COLUMNS)``: no model instances on hot paths.
FOLLOW_UP_COLUMNS = (
    "id",
    "provider_id",
    "provider_name",
    "action",
    "notes",
    "platform_context_id",
    "platform_context_label",
    "platform_context_handle",
    "platform_context_type",
    "conversion_cursor",
    "conversion_href",
    "created_at",
)


def follow_up_row(values: dict[str, Any]) -> dict[str, Any]:
    """A ``.values(*FOLLOW_UP_COLUMNS)`` dict (or a model's ``__dict__``) as the public row."""
    context = {
        "id": values["platform_context_id"],
        "label": values["platform_context_label"],
        "handle": values["platform_context_handle"],
        "type": values["platform_context_type"],
    }
    return {
        "followUpId": str(values["id"]),
        "providerId": values["provider_id"],
        "providerName": values["provider_name"],
        "action": values["action"],
        "notes": values["notes"],
        "platformContext": context if any(v is not None for v in context.values()) else None,
        "conversionCursor": values["conversion_cursor"],
        "conversionHref": values["conversion_href"],
        "createdAt": format_timestamp(values["created_at"]),
    }


def _json_text(column: str) -> str:
    """A nullable text column as a JSON value: PostgreSQL's string escaping is orjson's."""
    return f"COALESCE(to_json({column})::text, 'null')"


# The row of ``follow_up_row``, built by PostgreSQL as one compact JSON text, byte for byte
# what ``ndjson_line(follow_up_row(values))`` writes without its newline (same key order, no
# spaces, UTC microseconds with a Z). The exporter reads it with COPY: no Python object per
# row. tests/exports/test_row_exports.py pins the equality on awkward text.
FOLLOW_UP_JSON_SQL = (
    '\'{"followUpId":"\' || id::text'
    ' || \'","providerId":\' || to_json(provider_id)::text'
    " || ',\"providerName\":' || to_json(provider_name)::text"
    " || ',\"action\":' || to_json(action)::text"
    f" || ',\"notes\":' || {_json_text('notes')}"
    " || ',\"platformContext\":' || CASE WHEN COALESCE(platform_context_id,"
    " platform_context_label, platform_context_handle, platform_context_type) IS NULL"
    " THEN 'null' ELSE"
    f" '{{\"id\":' || {_json_text('platform_context_id')}"
    f" || ',\"label\":' || {_json_text('platform_context_label')}"
    f" || ',\"handle\":' || {_json_text('platform_context_handle')}"
    f" || ',\"type\":' || {_json_text('platform_context_type')} || '}}' END"
    f" || ',\"conversionCursor\":' || {_json_text('conversion_cursor')}"
    f" || ',\"conversionHref\":' || {_json_text('conversion_href')}"
    ' || \',"createdAt":"\''
    " || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') || '\"}'"
)
# The keys of a line that name its position in (created_at, id) order: its cursor.
FOLLOW_UP_JSON_POSITION = ("createdAt", "followUpId")
