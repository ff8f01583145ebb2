"""The follow-up data's app (its operator pages are reports/pages/)."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"
