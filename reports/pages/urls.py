"""Operator pages under /admin/ (export health, onboarding, follow-ups)."""

from django.contrib import admin
from django.urls import path

from reports.pages import onboarding, runs, views

urlpatterns = [
    path("reports/", admin.site.admin_view(views.reports_page), name="reports"),
    path(
        "reports/follow-ups/",
        admin.site.admin_view(views.follow_up_create),
        name="reports-follow-up-create",
    ),
    path(
        "reports/cards/<str:feed>/",
        admin.site.admin_view(views.feed_card),
        name="reports-card",
    ),
    path(
        "reports/cards/<str:feed>/run/",
        admin.site.admin_view(views.run_now),
        name="reports-run-now",
    ),
    path("reports/runs/<int:run_id>/", admin.site.admin_view(runs.run_detail), name="reports-run"),
    path(
        "reports/cards/<str:feed>/cursor/",
        admin.site.admin_view(runs.cursor_rewind),
        name="reports-cursor-rewind",
    ),
    path(
        "reports/cards/<str:feed>/badge-key/",
        admin.site.admin_view(views.badge_key_rotate),
        name="reports-badge-key-rotate",
    ),
    path("onboarding/", admin.site.admin_view(onboarding.onboarding_view), name="onboarding"),
    path(
        "onboarding/segments.csv",
        admin.site.admin_view(onboarding.onboarding_segments_csv_view),
        name="onboarding-segments-csv",
    ),
]
