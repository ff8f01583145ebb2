"""The telemetry exports, declared beside their data (see ``exports/feeds.py``): experiment
segments (from the database and through the reporting API), checkout offer events, and the
two capture windows landed as snapshots."""

from __future__ import annotations

import uuid
from functools import partial

from exports.feeds import (
    ROW_FEED_SETTINGS,
    SNAPSHOT_SETTINGS,
    ApiFeed,
    Card,
    RowFeed,
    SnapshotFeed,
)
from exports.models import Feed
from exports.registry import register
from exports.warehouse import EXAMPLE_DAY, Form, WarehouseTable, column, ndjson_form, webhook_form
from telemetry.metrics import GuardrailWorkflowMetrics, QuickOrderMetrics
from telemetry.models import (
    CheckoutOfferEvent,
    GuardrailWorkflowEvent,
    PricingExperimentSegment,
    QuickOrderEvent,
)
from telemetry.rows import OFFER_EVENT_COLUMNS, SEGMENT_COLUMNS, offer_event_row, segment_row
from telemetry.selectors import quick_order_funnel, window_events_after

# The quick-order runbook's drift check: these exported metrics must match the local funnel
# within 5% (exports/health.py flags the feed otherwise).
QUICK_ORDER_COMPARED_METRICS = (
    ("startCount", "Starts"),
    ("abortCount", "Aborts"),
    ("completeCount", "Completes"),
    ("completionRate", "Completion rate (%)"),
)

# The status snapshot's metrics, from the events of one loaded snapshot (SPEC §5).
QUICK_ORDER_METRICS_SQL = """SELECT
  count(CASE WHEN event_name = 'quick_order.start' THEN 1 END) AS start_count,
  count(CASE WHEN event_name = 'quick_order.abort' THEN 1 END) AS abort_count,
  count(CASE WHEN event_name = 'quick_order.complete' THEN 1 END) AS complete_count,
  round(100.0 * count(CASE WHEN event_name = 'quick_order.complete' THEN 1 END)
    / nullif(count(CASE WHEN event_name = 'quick_order.start' THEN 1 END), 0), 1)
    AS completion_rate
FROM analytics.quick_order_events"""

ONBOARDING_PRICING_SEGMENTS = register(
    RowFeed(
        name=Feed.ONBOARDING_PRICING_SEGMENTS,
        warehouse=WarehouseTable(
            feed=Feed.ONBOARDING_PRICING_SEGMENTS,
            table="analytics.onboarding_pricing_segments",
            stage="@analytics.onboarding_pricing_segments_stage",
            columns=(
                column("event_id", "UUID"),
                column("journey_id", "UUID"),
                column("order_id", "UUID"),
                column("order_number", "TEXT"),
                column("slug", "TEXT"),
                column("variant_key", "TEXT"),
                column("variant_name", "TEXT"),
                column("is_control", "BOOLEAN"),
                column("status", "TEXT"),
                column("feature_flag_key", "TEXT"),
                column("assignment_strategy", "TEXT"),
                column("recorded_at", "TIMESTAMPTZ"),
                column("segment_id", "BIGINT"),
            ),
            # Not event_id: one onboarding event can assign several experiments.
            merge_key="segment_id",
            timestamp="recorded_at",
            forms=(
                ndjson_form(
                    "onboarding_pricing_segments",
                    "NDJSON files (file sink, both exporters) and S3 objects (S3 sink)",
                ),
                webhook_form("onboarding_pricing_segments", "segments"),
                Form(
                    "csv",
                    "CSV downloads (experiment-events ?format=csv, /admin/onboarding)",
                    f"onboarding_pricing_segments/csv/{EXAMPLE_DAY}/",
                    r".*[.]csv",
                ),
            ),
            notes="event_id repeats when one onboarding event assigns several experiments;"
            " segment_id is the row's own key.",
        ),
        envelope="segments",
        settings_prefix="ONBOARDING_EXPORT",
        settings=ROW_FEED_SETTINGS,
        setting_overrides={"webhook_url": "ANALYTICS_SEGMENTS_WEBHOOK"},
        rows_permission="telemetry.view_pricingexperimentsegment",
        card=Card(
            title="Onboarding segments export health",
            order=4,
            download_route="onboarding-segments-export-download",
        ),
        model=PricingExperimentSegment,
        timestamp_field="recorded_at",
        # "id" (in SEGMENT_COLUMNS) is the segment row's own key: the keyset's tie-breaker.
        columns=SEGMENT_COLUMNS,
        serialise=segment_row,
        id_kind=int,
    )
)

# The same rows over HTTP, for hosts without database access. Its own cursor file: its
# runs take their own lock, so sharing the database feed's checkpoint could interleave.
ONBOARDING_PRICING_SEGMENTS_VIA_API = register(
    ApiFeed(
        name=Feed.ONBOARDING_PRICING_SEGMENTS_VIA_API,
        envelope="segments",
        settings_prefix="ONBOARDING_EXPORT",
        settings=("webhook_url", "cursor_path", "slack_webhook", "workflow_url"),
        setting_overrides={
            "webhook_url": "ANALYTICS_SEGMENTS_WEBHOOK",
            "cursor_path": "ONBOARDING_EXPORT_VIA_API_CURSOR_PATH",
        },
        rows_permission="telemetry.view_pricingexperimentsegment",
    )
)

OFFER_EVENTS = register(
    RowFeed(
        name=Feed.OFFER_EVENTS,
        warehouse=WarehouseTable(
            feed=Feed.OFFER_EVENTS,
            table="analytics.checkout_offer_events",
            stage="@analytics.checkout_offer_events_stage",
            columns=(
                column("event_id", "UUID"),
                column("offer_slug", "TEXT"),
                column("event_type", "TEXT"),
                column("order_id", "UUID"),
                column("session_id", "TEXT"),
                column("metadata", "JSON"),
                column("recorded_at", "TIMESTAMPTZ"),
            ),
            merge_key="event_id",
            timestamp="recorded_at",
            forms=(
                ndjson_form(
                    "offer_events", "NDJSON files (file sink, stdout) and S3 objects (S3 sink)"
                ),
                Form(
                    "csv",
                    "CSV files (export_offer_events --format csv)",
                    f"offer_events/csv/{EXAMPLE_DAY}/",
                    r".*[.]csv",
                ),
            ),
        ),
        envelope="offerEvents",
        settings_prefix="OFFER_EVENTS_EXPORT",
        settings=("cursor_path", "slack_webhook"),
        rows_permission="telemetry.view_checkoutofferevent",
        model=CheckoutOfferEvent,
        timestamp_field="recorded_at",
        columns=OFFER_EVENT_COLUMNS,
        serialise=offer_event_row,
        id_kind=uuid.UUID,
    )
)

QUICK_ORDER_TELEMETRY = register(
    SnapshotFeed(
        name=Feed.QUICK_ORDER_TELEMETRY,
        warehouse=WarehouseTable(
            feed=Feed.QUICK_ORDER_TELEMETRY,
            table="analytics.quick_order_events",
            stage="@analytics.quick_order_stage",
            columns=(
                column("event_id", "UUID"),
                column("session_id", "TEXT"),
                column("event_name", "TEXT"),
                column("product_id", "TEXT"),
                column("product_title", "TEXT"),
                column("platform_context", "TEXT"),
                column("recorded_at", "TIMESTAMPTZ"),
                column("metadata", "JSON"),
            ),
            merge_key="event_id",
            timestamp="recorded_at",
            forms=(
                ndjson_form(
                    "quick-order", "telemetry snapshots (S3 objects of the export workflow)"
                ),
            ),
            notes="every snapshot is the whole retained window: consecutive snapshots overlap, the"
            " merge keeps one row per event.",
            extra_parity=(QUICK_ORDER_METRICS_SQL,),
        ),
        settings_prefix="QUICK_ORDER_EXPORT",
        settings=SNAPSHOT_SETTINGS,
        rows_permission="telemetry.view_quickorderevent",
        card=Card(title="Quick-order export health", order=2, download_route="quick-order-export"),
        folder="quick-order",
        count_header="X-Quick-Order-Events",
        metrics=QuickOrderMetrics,
        pending=partial(window_events_after, QuickOrderEvent),
        local_metrics=quick_order_funnel,
        compared_metrics=QUICK_ORDER_COMPARED_METRICS,
    )
)

GUARDRAIL_WORKFLOW_TELEMETRY = register(
    SnapshotFeed(
        name=Feed.GUARDRAIL_WORKFLOW_TELEMETRY,
        warehouse=WarehouseTable(
            feed=Feed.GUARDRAIL_WORKFLOW_TELEMETRY,
            table="analytics.guardrail_workflow_events",
            stage="@analytics.guardrail_workflow_stage",
            columns=(
                column("event_id", "UUID"),
                # Always "guardrail.workflow" (the capture's event name), kept as the export has it.
                column("name", "TEXT"),
                column("provider_id", "TEXT"),
                column("provider_name", "TEXT"),
                column("workflow_action", "TEXT"),
                column("source", "TEXT"),
                column("guardrail_platform_slug", "TEXT", "guardrail.platformSlug"),
                column("guardrail_status", "TEXT", "guardrail.guardrailStatus"),
                column("metadata", "JSON"),
                column("recorded_at", "TIMESTAMPTZ"),
            ),
            merge_key="event_id",
            timestamp="recorded_at",
            forms=(
                ndjson_form(
                    "guardrail-workflow", "telemetry snapshots (S3 objects of the export workflow)"
                ),
            ),
            notes="every snapshot is the whole retained window: consecutive snapshots overlap, the"
            " merge keeps one row per event.",
        ),
        settings_prefix="GUARDRAIL_WORKFLOW_EXPORT",
        settings=SNAPSHOT_SETTINGS,
        rows_permission="telemetry.view_guardrailworkflowevent",
        card=Card(
            title="Guardrail workflow export health",
            order=3,
            download_route="guardrail-workflow-export-download",
        ),
        folder="guardrail-workflow",
        count_header="X-Guardrail-Workflow-Events",
        metrics=GuardrailWorkflowMetrics,
        pending=partial(window_events_after, GuardrailWorkflowEvent),
    )
)
