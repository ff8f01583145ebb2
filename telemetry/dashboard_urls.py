"""Staff dashboards under /dashboard/ (chat telemetry rollups, GDPR audit health)."""

from django.urls import path

from telemetry import views

app_name = "dashboard"

urlpatterns = [
    path("telemetry/", views.telemetry_dashboard_view, name="telemetry"),
    path("telemetry/gdpr/", views.gdpr_audit_view, name="telemetry-gdpr"),
]
