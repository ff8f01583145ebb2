"""Reporting API routes and operator download/trigger routes."""

from django.urls import path  # noqa: F401 - routes are added by the features that own them

urlpatterns: list = []
