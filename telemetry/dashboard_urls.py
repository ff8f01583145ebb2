"""Staff dashboards under /dashboard/ (chat telemetry rollups, GDPR audit health)."""

from django.urls import path  # noqa: F401 - routes are added by the features that own them

urlpatterns: list = []
