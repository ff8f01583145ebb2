"""The public JSON shapes of telemetry rows, shared by the API and the exporters."""

from __future__ import annotations

from typing import Any

from smplat.csvcells import csv_safe_sql
from smplat.cursors import format_timestamp

# One row per recorded pricing experiment: the model's columns, in the data-lake table's
# order. "id" is the segment row's own bigint key, exported as segment_id / segmentId: one
# onboarding event can assign several experiments, so event_id repeats and cannot be the
# warehouse's merge key. The id is written once, with the event, and never changes (it is
# also the keyset tie-breaker). It comes last so the CSV's older columns keep their place.
SEGMENT_COLUMNS = (
    "event_id",
    "journey_id",
    "order_id",
    "order_number",
    "slug",
    "variant_key",
    "variant_name",
    "is_control",
    "status",
    "feature_flag_key",
    "assignment_strategy",
    "recorded_at",
    "id",
)
# The data-lake column names, in order: the CSV header and the warehouse table.
SEGMENT_CSV_HEADER = tuple("segment_id" if column == "id" else column for column in SEGMENT_COLUMNS)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


SEGMENT_KEYS = tuple(_camel(c) for c in SEGMENT_CSV_HEADER)

_TIMESTAMP_SQL = "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def _csv_text(column: str) -> str:
    """A nullable text column as one CSV cell after ``csv_safe`` (formula-like text prefixed
    with '). ``quote_ident`` quotes with the CSV rule (inside double quotes, a double quote
    is doubled, nothing else is escaped) in one C call; it quotes more cells than strictly
    needed (capitals, spaces, punctuation), which every CSV reader reads the same. NULL is
    an empty cell, as in Python's writer."""
    return f"COALESCE(quote_ident({csv_safe_sql(column)}), '')"


_SEGMENT_CSV_TYPED = {
    "event_id": "event_id::text",
    "journey_id": "journey_id::text",
    "order_id": "order_id::text",
    "is_control": "CASE WHEN is_control THEN 'true' ELSE 'false' END",
    "recorded_at": _TIMESTAMP_SQL,
    "id": "id::text",
}
# One CSV line of a segment row (no newline), in SEGMENT_CSV_HEADER order, built by
# PostgreSQL so that a download needs no Python object per row or cell.
SEGMENT_CSV_LINE_SQL = " || ',' || ".join(
    _SEGMENT_CSV_TYPED.get(column) or _csv_text(column) for column in SEGMENT_COLUMNS
)


def segment_row(values: dict[str, Any]) -> dict[str, Any]:
    """A ``PricingExperimentSegment.objects.values(*SEGMENT_COLUMNS)`` dict as the public row."""
    row = {}
    for column, key in zip(SEGMENT_COLUMNS, SEGMENT_KEYS, strict=True):
        value = values[column]
        if column == "recorded_at":
            value = format_timestamp(value)
        elif column in {"event_id", "journey_id", "order_id"}:
            value = str(value)
        row[key] = value
    return row


OFFER_EVENT_COLUMNS = (
    "id",
    "offer_slug",
    "event_type",
    "order_id",
    "session_id",
    "metadata",
    "recorded_at",
)


def offer_event_row(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventId": str(values["id"]),
        "offerSlug": values["offer_slug"],
        "eventType": values["event_type"],
        "orderId": str(values["order_id"]) if values["order_id"] else None,
        "sessionId": values["session_id"],
        "metadata": values["metadata"],
        "recordedAt": format_timestamp(values["recorded_at"]),
    }


QUICK_ORDER_COLUMNS = (
    "event_id",
    "session_id",
    "event_name",
    "product_id",
    "product_title",
    "platform_context",
    "recorded_at",
    "metadata",
)


def quick_order_row(values: dict[str, Any]) -> dict[str, Any]:
    """An NDJSON line of the quick-order export (SPEC §3)."""
    return {
        "eventId": str(values["event_id"]),
        "sessionId": values["session_id"],
        "eventName": values["event_name"],
        "productId": values["product_id"],
        "productTitle": values["product_title"],
        "platformContext": values["platform_context"],
        "recordedAt": format_timestamp(values["recorded_at"]),
        "metadata": values["metadata"],
    }


GUARDRAIL_WORKFLOW_COLUMNS = (
    "event_id",
    "provider_id",
    "provider_name",
    "workflow_action",
    "source",
    "guardrail_platform_slug",
    "guardrail_status",
    "metadata",
    "recorded_at",
)


def guardrail_workflow_row(values: dict[str, Any]) -> dict[str, Any]:
    """An NDJSON line of the guardrail workflow export: the capture body's fields plus eventId."""
    guardrail = None
    if values["guardrail_platform_slug"] is not None or values["guardrail_status"] is not None:
        guardrail = {
            "platformSlug": values["guardrail_platform_slug"],
            "guardrailStatus": values["guardrail_status"],
        }
    return {
        "eventId": str(values["event_id"]),
        "name": "guardrail.workflow",
        "providerId": values["provider_id"],
        "providerName": values["provider_name"],
        "workflowAction": values["workflow_action"],
        "source": values["source"],
        "guardrail": guardrail,
        "metadata": values["metadata"],
        "recordedAt": format_timestamp(values["recorded_at"]),
    }
