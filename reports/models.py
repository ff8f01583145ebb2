"""The follow-up data: guardrail follow-ups operators record and provider automation runs."""

import uuid

from django.contrib.postgres.indexes import OpClass
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

LINK_VALIDATOR = URLValidator(schemes=["http", "https"])


class GuardrailFollowUp(models.Model):
    """A manual remediation an operator recorded against a provider's guardrail alert."""

    class Action(models.TextChoices):
        PAUSE = "pause", "Pause"
        RESUME = "resume", "Resume"
        ESCALATE = "escalate", "Escalate"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider_id = models.TextField()
    provider_name = models.TextField()
    action = models.TextField(choices=Action.choices)
    notes = models.TextField(null=True, blank=True)
    platform_context_id = models.TextField(null=True, blank=True)
    platform_context_label = models.TextField(null=True, blank=True)
    platform_context_handle = models.TextField(null=True, blank=True)
    platform_context_type = models.TextField(null=True, blank=True)
    # NULL means the operator looked at the "Live conversion snapshot", not a historical slice.
    conversion_cursor = models.TextField(null=True, blank=True)
    # Shown as a link on the pages and in Slack: web addresses only (no javascript: URLs),
    # whichever way the row comes in (API, operator form, the admin).
    conversion_href = models.TextField(null=True, blank=True, validators=[LINK_VALIDATOR])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "guardrail follow-up"
        # Sort by created_at, then id: ids are random UUIDs, only the pair is a total order.
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["pause", "resume", "escalate"]),
                name="guardrail_followup_action_valid",
            ),
            models.CheckConstraint(
                condition=~Q(provider_id=""), name="guardrail_followup_provider_present"
            ),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="followup_keyset_idx"),
            models.Index(
                fields=["provider_id", "created_at", "id"], name="followup_provider_keyset_idx"
            ),
            # The operator pages' provider search: a case-insensitive prefix of the id or the
            # name (reports.selectors.follow_ups_matching); text_pattern_ops serves LIKE
            # 'prefix%' whatever the database's collation.
            models.Index(
                OpClass(Lower("provider_id"), name="text_pattern_ops"),
                name="followup_provider_id_idx",
            ),
            models.Index(
                OpClass(Lower("provider_name"), name="text_pattern_ops"),
                name="followup_provider_name_idx",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_action_display()} {self.provider_name} @ {self.created_at:%Y-%m-%d %H:%M}"
        )

    @property
    def conversion_label(self) -> str:
        return self.conversion_cursor or "Live conversion snapshot"


class ProviderAutomationRun(models.Model):
    """One run of the provider automation worker (alert sweep or replay of failed orders)."""

    class Kind(models.TextChoices):
        ALERT = "alert", "Alert sweep"
        REPLAY = "replay", "Replay"

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.TextField(choices=Kind.choices)
    outcome = models.TextField(choices=Outcome.choices, default=Outcome.SUCCEEDED)
    ran_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    # What the run counted: providers checked, alerts sent, orders replayed, failures...
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["ran_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["alert", "replay"]), name="automation_run_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["succeeded", "partial", "failed"]),
                name="automation_run_outcome_valid",
            ),
        ]
        indexes = [models.Index(fields=["ran_at", "id"], name="automation_run_keyset_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.ran_at:%Y-%m-%d %H:%M} ({self.outcome})"
