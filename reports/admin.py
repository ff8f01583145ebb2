"""The admin of the follow-up data: guardrail follow-ups and provider automation runs."""

from django.contrib import admin

from reports import models


@admin.register(models.GuardrailFollowUp)
class GuardrailFollowUpAdmin(admin.ModelAdmin):
    """Follow-ups are an audit trail: they are recorded (here or by the API), never edited."""

    list_display = [
        "created_at",
        "provider_name",
        "provider_id",
        "action",
        "platform_context_label",
        "conversion_label",
    ]
    list_filter = ["action", "platform_context_type", "provider_name"]
    search_fields = ["id", "provider_id", "provider_name", "notes", "platform_context_handle"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    readonly_fields = ["id", "created_at"]
    fieldsets = [
        (None, {"fields": ["provider_id", "provider_name", "action", "notes"]}),
        (
            "Platform context",
            {
                "fields": [
                    "platform_context_id",
                    "platform_context_label",
                    "platform_context_handle",
                    "platform_context_type",
                ]
            },
        ),
        ("Conversion slice", {"fields": ["conversion_cursor", "conversion_href"]}),
        ("Record", {"fields": ["id", "created_at"]}),
    ]

    @admin.display(description="Conversion slice")
    def conversion_label(self, obj) -> str:
        return obj.conversion_label

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.ProviderAutomationRun)
class ProviderAutomationRunAdmin(admin.ModelAdmin):
    list_display = ["ran_at", "kind", "outcome", "duration_ms"]
    list_filter = ["kind", "outcome"]
    date_hierarchy = "ran_at"
    ordering = ["-ran_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
