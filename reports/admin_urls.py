"""Operator pages under /admin/ (export health, onboarding, follow-ups)."""

from django.urls import path  # noqa: F401 - routes are added by the features that own them

urlpatterns: list = []
