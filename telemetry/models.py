"""What the storefront and the admin tools send in.

Every table that is read page by page has a (timestamp, id) index: the API and the exporters
walk it with a row comparison, ``(recorded_at, id) > (%s, %s)``, so a page deep in the table
costs what the first one costs.
"""

import uuid

from django.db import models
from django.db.models import Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

QUICK_ORDER_WINDOW = 5_000
GUARDRAIL_WORKFLOW_WINDOW = 2_000
# Rows a window keeps beyond its size before they are deleted. Reads are always bounded by
# the size, so the slack is invisible; it means a reader streaming the window is never
# racing a concurrent trim (a row leaves the table only after 1 000 newer rows arrived).
WINDOW_TRIM_SLACK = 1_000
# Capture trims the window on every WINDOW_TRIM_EVERY-th arrival (by id), not on each one:
# a trim walks the newest WINDOW + WINDOW_TRIM_SLACK ids and costs more than the insert
# itself. Between trims the table holds at most WINDOW_TRIM_EVERY - 1 rows more than
# WINDOW + WINDOW_TRIM_SLACK; reads are bounded by the window, so nobody sees them.
WINDOW_TRIM_EVERY = 50

QUICK_ORDER_EVENT_NAMES = ["quick_order.start", "quick_order.abort", "quick_order.complete"]
GDPR_ACTIONS = ["access_request", "export", "deletion", "consent_update", "retention_purge"]


class WindowQuerySet(models.QuerySet):
    def window(self, size: int | None = None) -> "WindowQuerySet":
        """The rolling window: the newest ``size`` arrivals (default: the model's WINDOW).

        Returned as a filter on the arrival id (not a slice), so it can still be filtered,
        counted and ordered, e.g. by the admin's changelist.
        """
        size = size or self.model.WINDOW
        floor = self.model.objects.order_by("-id").values("id")[size - 1 : size]
        return self.filter(id__gte=Coalesce(Subquery(floor), Value(0)))


class QuickOrderEvent(models.Model):
    """One step of the storefront quick-order funnel; a rolling window of the newest rows.

    ``id`` is the arrival order (the window keeps the newest arrivals, whatever timestamp a
    client put in ``recorded_at``); ``event_id`` is the public identifier.
    """

    class EventName(models.TextChoices):
        START = "quick_order.start", "Start"
        ABORT = "quick_order.abort", "Abort"
        COMPLETE = "quick_order.complete", "Complete"

    WINDOW = QUICK_ORDER_WINDOW

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session_id = models.TextField(null=True, blank=True)
    event_name = models.TextField(choices=EventName.choices)
    product_id = models.TextField()
    product_title = models.TextField()
    platform_context = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = WindowQuerySet.as_manager()

    class Meta:
        verbose_name = "quick-order event"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(event_name__in=QUICK_ORDER_EVENT_NAMES),
                name="quick_order_event_name_valid",
            ),
        ]
        indexes = [models.Index(fields=["recorded_at"], name="quick_order_recorded_idx")]

    def __str__(self) -> str:
        return f"{self.event_name} {self.product_id} @ {self.recorded_at:%Y-%m-%d %H:%M}"


class GuardrailWorkflowEvent(models.Model):
    """A ``guardrail.workflow`` action from the admin tools; rolling window of the newest rows."""

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        AUTOMATION = "automation", "Automation"
        STOREFRONT = "storefront", "Storefront"

    WINDOW = GUARDRAIL_WORKFLOW_WINDOW

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider_id = models.TextField(null=True, blank=True)
    provider_name = models.TextField(null=True, blank=True)
    workflow_action = models.TextField()
    source = models.TextField(choices=Source.choices, default=Source.ADMIN)
    guardrail_platform_slug = models.TextField(null=True, blank=True)
    guardrail_status = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = WindowQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["admin", "automation", "storefront"]),
                name="guardrail_workflow_source_valid",
            ),
            models.CheckConstraint(
                condition=~Q(workflow_action=""), name="guardrail_workflow_action_present"
            ),
        ]
        indexes = [
            models.Index(fields=["recorded_at"], name="guardrail_wf_recorded_idx"),
            models.Index(fields=["provider_id", "recorded_at"], name="guardrail_wf_provider_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_action} ({self.provider_id or 'no provider'})"


class OnboardingJourney(models.Model):
    """A customer's onboarding after an order: one per order, with a checklist of tasks."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        STALLED = "stalled", "Stalled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField(unique=True)
    order_number = models.TextField(null=True, blank=True)
    status = models.TextField(choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "completed", "stalled"]),
                name="onboarding_journey_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["created_at", "id"], name="onboarding_journey_created_idx")]

    def __str__(self) -> str:
        return f"Onboarding for order {self.order_number or self.order_id}"


class OnboardingJourneyTask(models.Model):
    """One item of a journey's checklist, done or not."""

    journey = models.ForeignKey(OnboardingJourney, on_delete=models.CASCADE, related_name="tasks")
    key = models.SlugField(max_length=64)
    title = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["journey", "position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "key"], name="onboarding_task_unique_key"),
            models.CheckConstraint(
                condition=Q(completed=False, completed_at__isnull=True)
                | Q(completed=True, completed_at__isnull=False),
                name="onboarding_task_completed_at_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({'done' if self.completed else 'open'})"


class OnboardingJourneyEvent(models.Model):
    """Something that happened in a journey; pricing-experiment assignments ride in metadata."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    journey = models.ForeignKey(OnboardingJourney, on_delete=models.CASCADE, related_name="events")
    event_type = models.TextField()
    task_key = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [
            models.Index(fields=["recorded_at", "id"], name="onboarding_event_keyset_idx"),
            models.Index(fields=["journey", "recorded_at"], name="onboarding_event_journey_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(event_type=""), name="onboarding_event_type_present"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} @ {self.recorded_at:%Y-%m-%d %H:%M}"


class PricingExperimentSegment(models.Model):
    """One recorded pricing experiment: a flattened ``metadata.pricing_experiment_segment``.

    The event's metadata keeps what the client sent; this table holds one typed row per
    experiment in it (an event can carry a list), written in the same transaction as the
    event, so the reporting API, the CSV download and the exporter read an indexed table
    instead of unpacking JSON on every page. Columns are those of the data-lake table.
    """

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(
        OnboardingJourneyEvent, on_delete=models.CASCADE, related_name="pricing_segments"
    )
    position = models.PositiveSmallIntegerField(default=0)
    journey_id = models.UUIDField()
    order_id = models.UUIDField()
    order_number = models.TextField(null=True, blank=True)
    slug = models.TextField()
    variant_key = models.TextField()
    variant_name = models.TextField(null=True, blank=True)
    is_control = models.BooleanField(default=False)
    status = models.TextField(null=True, blank=True)
    feature_flag_key = models.TextField(null=True, blank=True)
    assignment_strategy = models.TextField(null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "position"], name="pricing_segment_unique_position"
            ),
            models.CheckConstraint(condition=~Q(slug=""), name="pricing_segment_slug_present"),
            models.CheckConstraint(
                condition=~Q(variant_key=""), name="pricing_segment_variant_present"
            ),
        ]
        indexes = [
            models.Index(fields=["recorded_at", "id"], name="pricing_segment_keyset_idx"),
            models.Index(
                fields=["slug", "variant_key", "recorded_at"], name="pricing_segment_slug_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug}/{self.variant_key}"


class PricingExperimentSegmentCount(models.Model):
    """Segment rows per UTC day, experiment, variant and cohort.

    What /admin/onboarding/ reads for its summary and its experiment choices, so the page
    costs the same with a thousand segments or millions. Kept exact by statement-level
    triggers on the segment table (migration 0002), so every write path (the service, bulk
    loads, the admin, cascading deletes) counts, and a batch insert costs one upsert per group.
    """

    day = models.DateField()
    slug = models.TextField()
    variant_key = models.TextField()
    is_control = models.BooleanField()
    rows = models.BigIntegerField(default=0)
    # The greatest variant name recorded in the group, as Max("variant_name") over its rows.
    variant_name = models.TextField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "slug", "variant_key", "is_control"],
                name="pricing_segment_count_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["slug", "variant_key"], name="pricing_segment_count_slug_idx")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.slug}/{self.variant_key}: {self.rows}"


class OnboardingJourneyStatusCount(models.Model):
    """Journeys per status, kept exact by triggers on the journey table (migration 0002):
    the status tabs of /admin/onboarding/ read three rows instead of counting every journey."""

    status = models.TextField(unique=True)
    journeys = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.status}: {self.journeys}"


class CheckoutOfferEvent(models.Model):
    """An impression or CTA click of a checkout offer."""

    class EventType(models.TextChoices):
        IMPRESSION = "impression", "Impression"
        CTA_CLICK = "cta_click", "CTA click"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    offer_slug = models.TextField()
    event_type = models.TextField(choices=EventType.choices)
    order_id = models.UUIDField(null=True, blank=True)
    session_id = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(event_type__in=["impression", "cta_click"]),
                name="checkout_offer_event_type_valid",
            ),
            models.CheckConstraint(condition=~Q(offer_slug=""), name="checkout_offer_slug_present"),
        ]
        indexes = [
            models.Index(fields=["recorded_at", "id"], name="checkout_offer_keyset_idx"),
            models.Index(fields=["offer_slug", "recorded_at"], name="checkout_offer_slug_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_slug} {self.event_type}"


# --- Chat telemetry -------------------------------------------------------------------------


class ChatConversation(models.Model):
    """A support/concierge chat on a storefront domain."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    domain = models.TextField()
    channel = models.TextField(default="web")
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "chat_conversations"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["started_at"], name="chat_conversation_started_idx")]

    def __str__(self) -> str:
        return f"{self.domain} chat @ {self.started_at:%Y-%m-%d %H:%M}"


class ChatMessage(models.Model):
    """One message of a conversation, with the telemetry of the model that produced it."""

    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        ChatConversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.TextField(choices=Role.choices)
    domain = models.TextField()
    model = models.TextField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When the row reached this database; the rollup refresh finds late rows by it.
    ingested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "chat_messages"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["user", "assistant"]), name="chat_message_role_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="chat_message_created_idx"),
            models.Index(fields=["ingested_at"], name="chat_message_ingested_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.role} message ({self.model or 'no model'})"


class ChatTelemetryRollup(models.Model):
    """Messages per hour bucket, all domains and models together."""

    bucket_start = models.DateTimeField(unique=True)
    conversations = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    assistant_messages = models.PositiveIntegerField(default=0)
    failed_messages = models.PositiveIntegerField(default=0)
    avg_latency_ms = models.FloatField(null=True, blank=True)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "chat_telemetry_rollups"
        ordering = ["-bucket_start"]

    def __str__(self) -> str:
        return f"{self.bucket_start:%Y-%m-%d %H:00}: {self.messages} messages"


class ChatTelemetryDomainRollup(models.Model):
    """Messages per hour bucket and storefront domain."""

    bucket_start = models.DateTimeField()
    domain = models.TextField()
    conversations = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    failed_messages = models.PositiveIntegerField(default=0)
    avg_latency_ms = models.FloatField(null=True, blank=True)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "chat_telemetry_domain_rollups"
        ordering = ["-bucket_start", "domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["bucket_start", "domain"], name="chat_domain_rollup_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain} {self.bucket_start:%Y-%m-%d %H:00}: {self.messages} messages"


class ChatTelemetryModelRollup(models.Model):
    """Assistant messages per hour bucket and model: latency and tokens."""

    bucket_start = models.DateTimeField()
    model = models.TextField()
    messages = models.PositiveIntegerField(default=0)
    failed_messages = models.PositiveIntegerField(default=0)
    avg_latency_ms = models.FloatField(null=True, blank=True)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "chat_telemetry_model_rollups"
        ordering = ["-bucket_start", "model"]
        constraints = [
            models.UniqueConstraint(
                fields=["bucket_start", "model"], name="chat_model_rollup_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.bucket_start:%Y-%m-%d %H:00}: {self.messages} messages"


class GdprAuditLog(models.Model):
    """What was done with a customer's personal data, by whom, and when."""

    class Action(models.TextChoices):
        ACCESS_REQUEST = "access_request", "Access request"
        EXPORT = "export", "Data export"
        DELETION = "deletion", "Deletion"
        CONSENT_UPDATE = "consent_update", "Consent update"
        RETENTION_PURGE = "retention_purge", "Retention purge"

    class Outcome(models.TextChoices):
        COMPLETED = "completed", "Completed"
        PENDING = "pending", "Pending"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    action = models.TextField(choices=Action.choices)
    outcome = models.TextField(choices=Outcome.choices, default=Outcome.COMPLETED)
    subject_reference = models.TextField(
        help_text="Pseudonymous customer reference, never an email."
    )
    actor = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "gdpr_audit_log"
        ordering = ["-created_at"]
        verbose_name = "GDPR audit entry"
        verbose_name_plural = "GDPR audit log"
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=GDPR_ACTIONS), name="gdpr_audit_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["completed", "pending", "failed"]),
                name="gdpr_audit_outcome_valid",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="gdpr_audit_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} of {self.subject_reference} ({self.outcome})"
