"""Reads of the reporting side."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

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


def follow_ups_matching(*, provider: str | None = None, action: str | None = None) -> QuerySet:
    """Follow-ups of ``action`` whose provider name or id starts with ``provider``, ignoring
    case ("social" finds "SocialForge" and "prov-socialforge" is found by "prov-soc").

    A prefix, not a substring: the lower() prefix indexes of the model serve it on any
    PostgreSQL, the embedded one of ``make run`` included, which has no pg_trgm for the
    trigram index a substring search would need.
    """
    queryset = GuardrailFollowUp.objects.all()
    if provider:
        prefix = provider.strip().lower()
        queryset = queryset.alias(
            provider_id_lower=Lower("provider_id"), provider_name_lower=Lower("provider_name")
        ).filter(
            Q(provider_id_lower__startswith=prefix) | Q(provider_name_lower__startswith=prefix)
        )
    if action:
        queryset = queryset.filter(action=action)
    return queryset


def follow_up_providers(limit: int = 200) -> list[tuple[str, str]]:
    """``(provider_id, newest provider name)`` of every provider with a follow-up, by a loose
    index scan of (provider_id, created_at, id): two index probes per provider, however many
    follow-ups there are."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE providers AS (
                (SELECT provider_id FROM reports_guardrailfollowup ORDER BY provider_id LIMIT 1)
                UNION ALL
                SELECT (SELECT f.provider_id FROM reports_guardrailfollowup f
                        WHERE f.provider_id > p.provider_id ORDER BY f.provider_id LIMIT 1)
                FROM providers p WHERE p.provider_id IS NOT NULL
            )
            SELECT p.provider_id,
                   (SELECT f.provider_name FROM reports_guardrailfollowup f
                    WHERE f.provider_id = p.provider_id
                    ORDER BY f.created_at DESC, f.id DESC LIMIT 1)
            FROM providers p WHERE p.provider_id IS NOT NULL LIMIT %s
            """,
            [limit],
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


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
