"""API keys as data: named, scoped, hashed, expiring and revocable machine-client keys.

A key is ``smplat_<prefix>_<secret>``. Only the prefix (to tell keys apart and to find the
row with one indexed lookup) and the SHA-256 of the whole key are stored; the key itself is
shown once, when it is created. A fast hash is enough, and keeps the capture path cheap: the
secret is 256 random bits, not a password, so there is nothing to brute-force slowly.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Scope(models.TextChoices):
    """What a key may call. ``CHECKOUT_API_KEY`` (the environment's key) holds every scope."""

    INGEST = "ingest", "ingest: the capture and analytics POST routes"
    READ = "read", "read: the reporting GET routes and the CSV download"
    EXPORT = "export", "export: what the exporters read (experiment events, telemetry windows)"
    WRITE = "write", "write: recording guardrail follow-ups"


KEY_NAME_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
    "A key name is 1 to 100 letters, digits, dots, dashes or underscores.",
)


class ApiKeyQuerySet(models.QuerySet):
    def active(self, now=None) -> ApiKeyQuerySet:
        """Keys that authenticate right now: not revoked, not expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )

    def matching(self, name_or_prefix: str) -> ApiKeyQuerySet:
        """Unrevoked keys named so, or whose prefix this is (``smplat_<prefix>`` works too)."""
        prefix = name_or_prefix.removeprefix("smplat_")
        return self.filter(revoked_at__isnull=True).filter(
            Q(name=name_or_prefix) | Q(prefix=prefix)
        )


class ApiKey(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.TextField(validators=[KEY_NAME_VALIDATOR])
    prefix = models.CharField(max_length=8, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.TextField(choices=Scope.choices))
    # Requests a minute on the ingest routes; empty: API_INGEST_RATE_PER_KEY.
    ingest_rate_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.TextField(blank=True, default="", editable=False)
    # Written at most once a minute per key (see smplat.api.keys.api_key_verify).
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["name", "-created_at"]
        constraints = [
            # Rotation keeps two keys valid at once under two names; a revoked key's name
            # can be given to a new one.
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(revoked_at__isnull=True),
                name="api_key_name_unique_while_active",
            ),
            models.CheckConstraint(
                condition=Q(scopes__contained_by=Scope.values) & ~Q(scopes=[]),
                name="api_key_scopes_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (smplat_{self.prefix}…)"

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= timezone.now():
            return "expired"
        return "active"
