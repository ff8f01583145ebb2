"""Telemetry capture and export routes, analytics ingest and onboarding routes."""

from django.urls import path  # noqa: F401 - routes are added by the features that own them

urlpatterns: list = []
