"""The admin of records nobody edits by hand: telemetry clients sent, the run history, the
audit trail. Operators read them; the admin offers no add, change or delete."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # COUNT(*) over a large table on every page is not free
    list_per_page = 50

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
