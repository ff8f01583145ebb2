"""Writes of the reporting side: what operators record."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from reports.models import GuardrailFollowUp
from smplat.watermark import database_now


@transaction.atomic
def follow_up_record(
    *,
    provider_id: str,
    provider_name: str,
    action: str,
    notes: str | None = None,
    platform_context: dict | None = None,
    conversion_cursor: str | None = None,
    conversion_href: str | None = None,
    created_at: datetime | None = None,
) -> GuardrailFollowUp:
    """Record a guardrail follow-up; ``platform_context`` is ``{id, label, handle, type}``.

    ``created_at`` (the export order) is the database's time inside this transaction
    unless given, so the commit watermark of the exporters holds (``smplat/watermark.py``).
    """
    context = platform_context or {}
    follow_up = GuardrailFollowUp(
        provider_id=provider_id,
        provider_name=provider_name,
        action=action,
        notes=notes or None,
        platform_context_id=context.get("id"),
        platform_context_label=context.get("label"),
        platform_context_handle=context.get("handle"),
        platform_context_type=context.get("type"),
        conversion_cursor=conversion_cursor or None,
        conversion_href=conversion_href or None,
        created_at=created_at or database_now(),
    )
    follow_up.full_clean()
    follow_up.save(force_insert=True)
    return follow_up
