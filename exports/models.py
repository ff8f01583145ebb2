"""The export engine's tables: the run history (ExportRun), webhook delivery attempts, cursor
changes, and each feed's health state and flips."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Feed(models.TextChoices):
    """Every export the site runs; the value is the feed's name in cursors, locks and logs."""

    GUARDRAIL_FOLLOWUPS = "guardrail_followups", "Guardrail follow-ups"
    ONBOARDING_PRICING_SEGMENTS = "onboarding_pricing_segments", "Onboarding pricing segments"
    ONBOARDING_PRICING_SEGMENTS_VIA_API = (
        "onboarding_pricing_segments_via_api",
        "Onboarding pricing segments (via API)",
    )
    OFFER_EVENTS = "offer_events", "Checkout offer events"
    QUICK_ORDER_TELEMETRY = "quick_order_telemetry", "Quick-order telemetry"
    GUARDRAIL_WORKFLOW_TELEMETRY = "guardrail_workflow_telemetry", "Guardrail workflow telemetry"


class ExportRun(models.Model):
    """One run of one feed's exporter, whoever started it."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        API = "api", "API"

    class Outcome(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        NO_DATA = "no_data", "No new data"
        FAILED = "failed", "Failed"
        # Handed to an outside workflow ("Run export now" with a trigger URL); that
        # workflow's exporter records its own run.
        DISPATCHED = "dispatched", "Dispatched to workflow"

    ACTIVE_OUTCOMES = (Outcome.QUEUED, Outcome.RUNNING)
    # A queued run no worker picked up within this time is abandoned (its worker is gone).
    QUEUED_EXPIRY = timedelta(minutes=30)

    id = models.BigAutoField(primary_key=True)
    feed = models.TextField(choices=Feed.choices)
    trigger = models.TextField(choices=Trigger.choices, default=Trigger.SCHEDULE)
    outcome = models.TextField(choices=Outcome.choices, default=Outcome.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveBigIntegerField(default=0)
    cursor_before = models.TextField(null=True, blank=True)
    cursor_after = models.TextField(null=True, blank=True)
    sink = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    # Where the run can be watched when it ran elsewhere (a dispatched GitHub workflow run).
    external_url = models.TextField(blank=True, default="")
    # Database defaults too: the benchmark's data and other raw inserts name no new column.
    batches = models.PositiveIntegerField(default=0, db_default=0)
    # Where the rows went, credentials and secret paths redacted (smplat/redact.py).
    destination = models.TextField(blank=True, default="", db_default="")
    # What the run wrote, in order, for "Download latest NDJSON": its S3 objects, or the file.
    artifacts = models.JSONField(
        default=list, blank=True, db_default=models.Value([], output_field=models.JSONField())
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(feed__in=Feed.values), name="export_run_feed_valid"),
            models.CheckConstraint(
                condition=Q(trigger__in=["schedule", "manual", "api"]),
                name="export_run_trigger_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    outcome__in=[
                        "queued",
                        "running",
                        "succeeded",
                        "no_data",
                        "failed",
                        "dispatched",
                    ]
                ),
                name="export_run_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(started_at__isnull=False),
                name="export_run_finished_after_start",
            ),
        ]
        indexes = [models.Index(fields=["feed", "-created_at"], name="export_run_feed_recent_idx")]

    def __str__(self) -> str:
        return f"{self.get_feed_display()} run #{self.pk} ({self.outcome})"

    @property
    def abandoned(self) -> bool:
        """Closed by a look at the feed after its process died (exports.health): its
        ``finished_at`` is when that was noticed, not when it stopped."""
        return self.outcome == self.Outcome.FAILED and self.error.startswith("Abandoned:")

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at and not self.abandoned:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def rows_per_second(self) -> float | None:
        duration = self.duration_seconds
        return self.rows / duration if duration and self.rows else None


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a webhook run's batch, for the run page (kept for recent runs only:
    ``exports.attempts.attempts_prune``)."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(ExportRun, on_delete=models.CASCADE, related_name="attempts")
    batch = models.PositiveIntegerField()  # 1 for the run's first batch
    attempt = models.PositiveSmallIntegerField()  # 1 for the first try of that batch
    webhook_id = models.TextField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no HTTP answer
    error = models.TextField(blank=True, default="")
    latency_ms = models.PositiveIntegerField()
    attempted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["batch", "attempt", "id"]
        indexes = [
            models.Index(fields=["run", "batch", "attempt"], name="delivery_attempt_run_idx")
        ]

    def __str__(self) -> str:
        return f"run #{self.run_id} batch {self.batch} attempt {self.attempt}"


class CursorChange(models.Model):
    """A cursor moved by hand (rewind, backfill, reset): who, when, from, to, why, and how
    many rows the next run re-sends. Adding one is the permission to rewind a feed."""

    class Via(models.TextChoices):
        CARD = "card", "Feed card"
        COMMAND = "command", "export_cursor command"

    id = models.BigAutoField(primary_key=True)
    feed = models.TextField(choices=Feed.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who, as text that outlives the account: the user name, or user@host for the command.
    actor = models.TextField()
    changed_at = models.DateTimeField(default=timezone.now)
    via = models.TextField(choices=Via.choices)
    cursor_from = models.TextField(null=True, blank=True)  # None: the beginning
    cursor_to = models.TextField(null=True, blank=True)
    reason = models.TextField()
    rows_to_resend = models.PositiveBigIntegerField()
    rows_capped = models.BooleanField(default=False)  # more than rows_to_resend
    # The first run that started from the changed cursor.
    next_run = models.ForeignKey(
        ExportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="cursor_changes"
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(feed__in=Feed.values), name="cursor_change_feed_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="cursor_change_has_reason"),
        ]
        indexes = [models.Index(fields=["feed", "-changed_at"], name="cursor_change_feed_idx")]

    def __str__(self) -> str:
        return f"{self.get_feed_display()} cursor {self.cursor_from} -> {self.cursor_to}"


class HealthState(models.TextChoices):
    """A feed's health, worst first in ``exports.health.SEVERITY`` (SPEC §8)."""

    NEVER = "never", "Never run"
    RUNNING = "running", "Running"
    FRESH = "fresh", "Fresh"
    LATE = "late", "Late"
    STALE = "stale", "Stale"
    FAILING = "failing", "Failing"
    STUCK = "stuck", "Stuck"


def new_badge_key() -> str:
    import secrets

    return secrets.token_urlsafe(24)


class FeedState(models.Model):
    """The settled health of one feed as last recorded, and what was last alerted.

    Written only by ``exports.health.health_record`` with a conditional UPDATE (``WHERE state
    = old AND alerted = old``), so two monitors that look at once record one flip and send
    one alert. ``badge_key`` is the unguessable part of the feed's public badge URLs.
    """

    feed = models.TextField(primary_key=True, choices=Feed.choices)
    state = models.TextField(choices=HealthState.choices, default=HealthState.NEVER)
    since = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    # The alert class last sent: "ok", or the bad state (stale, failing, stuck) alerted.
    alerted = models.TextField(default="ok")
    checked_at = models.DateTimeField(null=True, blank=True)
    badge_key = models.TextField(unique=True, default=new_badge_key)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(feed__in=Feed.values), name="feed_state_feed_valid"),
            models.CheckConstraint(
                condition=Q(state__in=HealthState.values), name="feed_state_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_feed_display()}: {self.state}"


class FeedFlip(models.Model):
    """One change of a feed's settled health state: from, to, when and why."""

    id = models.BigAutoField(primary_key=True)
    feed = models.TextField(choices=Feed.choices)
    from_state = models.TextField(choices=HealthState.choices)
    to_state = models.TextField(choices=HealthState.choices)
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True, default="")
    # What became of the flip's Slack alert ("" when the flip alerts nobody).
    alert = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["feed", "-at"], name="feed_flip_feed_recent_idx")]

    def __str__(self) -> str:
        return f"{self.feed}: {self.from_state} -> {self.to_state} at {self.at:%Y-%m-%d %H:%M}"
