"""Telemetry capture and export routes, analytics ingest and onboarding routes."""

from django.urls import path

from telemetry import apis

urlpatterns = [
    path(
        "api/telemetry/quick-order",
        apis.QuickOrderCaptureApi.as_view(),
        name="api-quick-order-capture",
    ),
    path(
        "api/telemetry/quick-order/export",
        apis.QuickOrderExportApi.as_view(),
        name="api-quick-order-export",
    ),
    path("api/telemetry", apis.TelemetryCaptureApi.as_view(), name="api-telemetry-capture"),
    path(
        "api/telemetry/guardrail-workflow/export",
        apis.GuardrailWorkflowExportApi.as_view(),
        name="api-guardrail-workflow-export",
    ),
    path(
        "api/v1/analytics/offer-events", apis.OfferEventCreateApi.as_view(), name="api-offer-events"
    ),
    path(
        "api/v1/analytics/onboarding-events",
        apis.OnboardingEventCreateApi.as_view(),
        name="api-onboarding-events",
    ),
    path(
        "api/v1/orders/<uuid:order_id>/onboarding",
        apis.OrderOnboardingApi.as_view(),
        name="api-order-onboarding",
    ),
    path(
        "api/v1/reporting/onboarding/experiment-events",
        apis.ExperimentEventsApi.as_view(),
        name="api-experiment-events",
    ),
]
