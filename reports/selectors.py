"""Reads of the reporting side."""

from __future__ import annotations

from datetime import datetime

from reports.models import GuardrailFollowUp, ProviderAutomationRun
from reports.rows import FOLLOW_UP_COLUMNS, follow_up_row
from smplat.cursors import Cursor, format_timestamp, keyset_page


def follow_up_timeline(
    *,
    provider_id: str | None = None,
    action: str | None = None,
    cursor: Cursor | None = None,
    limit: int = 50,
    descending: bool = False,
    committed_before: datetime | None = None,
) -> tuple[list[dict], str | None]:
    """A page of follow-ups in (created_at, id) order as public rows, and the next cursor;
    only rows before ``committed_before`` (the commit watermark) when given."""
    queryset = GuardrailFollowUp.objects.all()
    if committed_before is not None:
        queryset = queryset.filter(created_at__lt=committed_before)
    if provider_id:
        queryset = queryset.filter(provider_id=provider_id)
    if action:
        queryset = queryset.filter(action=action)
    rows, next_cursor = keyset_page(
        queryset,
        cursor=cursor,
        limit=limit,
        descending=descending,
        timestamp_field="created_at",
        columns=FOLLOW_UP_COLUMNS,
    )
    return [follow_up_row(row) for row in rows], next_cursor


AUTOMATION_RUN_COLUMNS = ("id", "kind", "outcome", "ran_at", "duration_ms", "summary")


def automation_run_history(
    *,
    kind: str | None = None,
    cursor: Cursor | None = None,
    limit: int = 20,
    descending: bool = False,
) -> tuple[list[dict], str | None]:
    """A page of provider automation runs, oldest first unless ``descending``."""
    queryset = ProviderAutomationRun.objects.all()
    if kind:
        queryset = queryset.filter(kind=kind)
    rows, next_cursor = keyset_page(
        queryset,
        cursor=cursor,
        limit=limit,
        descending=descending,
        timestamp_field="ran_at",
        columns=AUTOMATION_RUN_COLUMNS,
    )
    runs = [
        {
            "id": str(row["id"]),
            "kind": row["kind"],
            "outcome": row["outcome"],
            "ranAt": format_timestamp(row["ran_at"]),
            "durationMs": row["duration_ms"],
            "summary": row["summary"],
        }
        for row in rows
    ]
    return runs, next_cursor
