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
