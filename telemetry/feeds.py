"""The telemetry exports, declared beside their data (see ``exports/feeds.py``): experiment
segments (from the database and through the reporting API), checkout offer events, and the
two capture windows landed as snapshots."""

from __future__ import annotations

import uuid
from functools import partial

from exports.feeds import ApiFeed, Card, RowFeed, SnapshotFeed
from exports.models import Feed
from exports.registry import register
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

ROW_FEED_SETTINGS = (
    "sink",
    "file_path",
    "s3_uri",
    "webhook_url",
    "cursor_path",
    "cursor_s3_uri",
    "status_s3_uri",
    "status_url",
    "slack_webhook",
    "workflow_url",
    "schedule_minutes",
)
SNAPSHOT_SETTINGS = (
    "url",
    "bucket",
    "s3_prefix",
    "status_s3_uri",
    "status_url",
    "slack_webhook",
    "workflow_url",
    "schedule_minutes",
)

ONBOARDING_PRICING_SEGMENTS = register(
    RowFeed(
        name=Feed.ONBOARDING_PRICING_SEGMENTS,
        envelope="segments",
        settings_prefix="ONBOARDING_EXPORT",
        settings=ROW_FEED_SETTINGS,
        setting_overrides={"webhook_url": "ANALYTICS_SEGMENTS_WEBHOOK"},
        rows_permission="telemetry.view_pricingexperimentsegment",
        card=Card(title="Onboarding segments export health", order=4),
        model=PricingExperimentSegment,
        timestamp_field="recorded_at",
        # "id" is the segment row's own key: the tie-breaker of the keyset order.
        columns=("id", *SEGMENT_COLUMNS),
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
