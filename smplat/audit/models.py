"""One row per change an operator or an API client made: who, what, when, from where."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """Append-only: written by ``smplat.audit.services.audit_record``, never edited."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # "alice", "key:storefront-2026", "manage.py (deploy)": readable even after the user or
    # the key is gone.
    actor = models.TextField()
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Dotted verbs: export.run_now, follow_up.record, api_key.create, api_key.revoke, ...
    action = models.TextField()
    target = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["action", "-created_at"], name="audit_action_recent_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target}"
