"""The follow-up export, declared beside the follow-up data (see ``exports/feeds.py``)."""

from __future__ import annotations

import uuid

from exports.feeds import ROW_FEED_SETTINGS, TRIGGER_SETTINGS, Card, RowFeed
from exports.models import Feed
from exports.registry import register
from exports.warehouse import WarehouseTable, column, ndjson_form, webhook_form
from reports.models import GuardrailFollowUp
from reports.rows import (
    FOLLOW_UP_COLUMNS,
    FOLLOW_UP_JSON_POSITION,
    FOLLOW_UP_JSON_SQL,
    follow_up_row,
)

GUARDRAIL_FOLLOWUPS = register(
    RowFeed(
        name=Feed.GUARDRAIL_FOLLOWUPS,
        warehouse=WarehouseTable(
            feed=Feed.GUARDRAIL_FOLLOWUPS,
            table="analytics.guardrail_followups",
            stage="@analytics.guardrail_followups_stage",
            columns=(
                column("follow_up_id", "UUID"),
                column("provider_id", "TEXT"),
                column("provider_name", "TEXT"),
                column("action", "TEXT"),
                column("notes", "TEXT"),
                column("platform_context_id", "TEXT", "platformContext.id"),
                column("platform_context_label", "TEXT", "platformContext.label"),
                column("platform_context_handle", "TEXT", "platformContext.handle"),
                column("platform_context_type", "TEXT", "platformContext.type"),
                column("conversion_cursor", "TEXT"),
                column("conversion_href", "TEXT"),
                column("created_at", "TIMESTAMPTZ"),
            ),
            merge_key="follow_up_id",
            timestamp="created_at",
            forms=(
                ndjson_form(
                    "guardrail_followups", "NDJSON files (file sink) and S3 objects (S3 sink)"
                ),
                webhook_form("guardrail_followups", "followUps"),
            ),
        ),
        envelope="followUps",
        settings_prefix="GUARDRAIL_EXPORT",
        settings=(*ROW_FEED_SETTINGS, *TRIGGER_SETTINGS),
        setting_overrides={"webhook_url": "ANALYTICS_GUARDRAIL_WEBHOOK"},
        rows_permission="reports.view_guardrailfollowup",
        card=Card(
            title="Guardrail export health", order=1, download_route="guardrail-followups-export"
        ),
        model=GuardrailFollowUp,
        timestamp_field="created_at",
        columns=FOLLOW_UP_COLUMNS,
        serialise=follow_up_row,
        id_kind=uuid.UUID,
        json_sql=FOLLOW_UP_JSON_SQL,
        json_position=FOLLOW_UP_JSON_POSITION,
        filter_fields={"provider_id": "provider_id"},
    )
)
