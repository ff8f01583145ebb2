"""Reporting API routes and operator download/trigger routes."""

from django.urls import path

from reports import apis

urlpatterns = [
    path(
        "api/v1/reporting/guardrails/followups",
        apis.FollowUpListApi.as_view(),
        name="api-follow-ups",
    ),
    path(
        "api/v1/fulfillment/providers/automation/status/history",
        apis.AutomationStatusHistoryApi.as_view(),
        name="api-automation-history",
    ),
    path(
        "api/reporting/guardrail-followups/export",
        apis.GuardrailFollowUpExportApi.as_view(),
        name="guardrail-followups-export",
    ),
    path(
        "api/reporting/quick-order-export",
        apis.QuickOrderExportDownloadApi.as_view(),
        name="quick-order-export",
    ),
    path(
        "api/reporting/guardrail-workflow-export",
        apis.GuardrailWorkflowExportDownloadApi.as_view(),
        name="guardrail-workflow-export-download",
    ),
]
