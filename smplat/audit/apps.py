"""The audit trail as a Django app (label ``audit``): one append-only table, shown read-only
in the admin to staff holding ``audit.view_auditentry``."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "smplat.audit"
    label = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"
