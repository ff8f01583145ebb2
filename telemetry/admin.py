"""The admin of telemetry: read-only lists of what clients sent in."""

from django.contrib import admin

from smplat.readonly_admin import ReadOnlyAdmin
from telemetry import models


@admin.register(models.QuickOrderEvent)
class QuickOrderEventAdmin(ReadOnlyAdmin):
    list_display = ["recorded_at", "event_name", "product_title", "platform_context", "session_id"]
    list_filter = ["event_name", "platform_context"]
    search_fields = ["event_id", "session_id", "product_id", "product_title"]
    date_hierarchy = "recorded_at"
    ordering = ["-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).window()


@admin.register(models.GuardrailWorkflowEvent)
class GuardrailWorkflowEventAdmin(ReadOnlyAdmin):
    list_display = [
        "recorded_at",
        "workflow_action",
        "provider_name",
        "source",
        "guardrail_platform_slug",
        "guardrail_status",
    ]
    list_filter = ["source", "guardrail_status", "workflow_action"]
    search_fields = ["event_id", "provider_id", "provider_name", "workflow_action"]
    date_hierarchy = "recorded_at"
    ordering = ["-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).window()


class OnboardingJourneyTaskInline(admin.TabularInline):
    model = models.OnboardingJourneyTask
    fields = ["position", "key", "title", "completed", "completed_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.OnboardingJourney)
class OnboardingJourneyAdmin(ReadOnlyAdmin):
    list_display = ["order_number", "order_id", "status", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["order_number", "order_id", "id"]
    date_hierarchy = "created_at"
    inlines = [OnboardingJourneyTaskInline]
    ordering = ["-created_at"]


@admin.register(models.OnboardingJourneyEvent)
class OnboardingJourneyEventAdmin(ReadOnlyAdmin):
    list_display = ["recorded_at", "event_type", "task_key", "journey"]
    list_filter = ["event_type"]
    search_fields = ["id", "journey__order_number", "task_key"]
    list_select_related = ["journey"]
    date_hierarchy = "recorded_at"
    ordering = ["-recorded_at", "-id"]


@admin.register(models.PricingExperimentSegment)
class PricingExperimentSegmentAdmin(ReadOnlyAdmin):
    list_display = [
        "recorded_at",
        "slug",
        "variant_key",
        "variant_name",
        "is_control",
        "status",
        "order_number",
    ]
    list_filter = ["slug", "is_control", "status", "assignment_strategy"]
    search_fields = ["slug", "variant_key", "order_number", "feature_flag_key"]
    date_hierarchy = "recorded_at"
    ordering = ["-recorded_at", "-id"]


@admin.register(models.CheckoutOfferEvent)
class CheckoutOfferEventAdmin(ReadOnlyAdmin):
    list_display = ["recorded_at", "offer_slug", "event_type", "order_id", "session_id"]
    list_filter = ["event_type", "offer_slug"]
    search_fields = ["offer_slug", "order_id", "session_id"]
    date_hierarchy = "recorded_at"
    ordering = ["-recorded_at", "-id"]


@admin.register(models.ChatConversation)
class ChatConversationAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "domain", "channel"]
    list_filter = ["domain", "channel"]
    search_fields = ["id", "domain"]
    date_hierarchy = "started_at"


@admin.register(models.ChatMessage)
class ChatMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "domain",
        "role",
        "model",
        "latency_ms",
        "output_tokens",
        "succeeded",
    ]
    list_filter = ["role", "succeeded", "model", "domain"]
    search_fields = ["id", "conversation__id", "domain", "model"]
    date_hierarchy = "created_at"


@admin.register(models.ChatTelemetryRollup)
class ChatTelemetryRollupAdmin(ReadOnlyAdmin):
    list_display = [
        "bucket_start",
        "conversations",
        "messages",
        "failed_messages",
        "avg_latency_ms",
        "output_tokens",
        "refreshed_at",
    ]
    date_hierarchy = "bucket_start"


@admin.register(models.ChatTelemetryDomainRollup)
class ChatTelemetryDomainRollupAdmin(ReadOnlyAdmin):
    list_display = [
        "bucket_start",
        "domain",
        "conversations",
        "messages",
        "failed_messages",
        "avg_latency_ms",
    ]
    list_filter = ["domain"]
    date_hierarchy = "bucket_start"


@admin.register(models.ChatTelemetryModelRollup)
class ChatTelemetryModelRollupAdmin(ReadOnlyAdmin):
    list_display = [
        "bucket_start",
        "model",
        "messages",
        "failed_messages",
        "avg_latency_ms",
        "output_tokens",
    ]
    list_filter = ["model"]
    date_hierarchy = "bucket_start"


@admin.register(models.GdprAuditLog)
class GdprAuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "outcome", "subject_reference", "actor"]
    list_filter = ["action", "outcome"]
    search_fields = ["subject_reference", "actor"]
    date_hierarchy = "created_at"
