from django.contrib import admin

from exports import models


@admin.register(models.ExportRun)
class ExportRunAdmin(admin.ModelAdmin):
    """Run history is written by the exporters; operators read it here."""

    list_display = [
        "created_at",
        "feed",
        "trigger",
        "outcome",
        "rows",
        "cursor_after",
        "sink",
        "requested_by",
    ]
    list_filter = ["feed", "outcome", "trigger", "sink"]
    search_fields = ["error", "cursor_after", "cursor_before"]
    list_select_related = ["requested_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
