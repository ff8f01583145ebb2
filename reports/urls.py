"""Reporting API routes (follow-ups, automation history)."""

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
]
