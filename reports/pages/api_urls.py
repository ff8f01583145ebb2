"""The operator routes of the export-health cards: download proxies and "Run export now"."""

from django.urls import path

from reports.pages import apis

urlpatterns = [
    path(
        "api/reporting/guardrail-followups/export",
        apis.GuardrailFollowUpExportApi.as_view(),
        name="guardrail-followups-export",
    ),
    path(
        "api/reporting/onboarding-segments/export",
        apis.OnboardingSegmentsExportDownloadApi.as_view(),
        name="onboarding-segments-export-download",
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
