"""Operator pages under /admin/ (export health, onboarding, follow-ups)."""

from django.contrib import admin
from django.urls import path

from reports import onboarding

urlpatterns = [
    path("onboarding/", admin.site.admin_view(onboarding.onboarding_view), name="onboarding"),
    path(
        "onboarding/segments.csv",
        admin.site.admin_view(onboarding.onboarding_segments_csv_view),
        name="onboarding-segments-csv",
    ),
]
