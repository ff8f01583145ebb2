"""The admin of records nobody edits by hand: telemetry clients sent, the run history, the
audit trail. Operators read them; the admin offers no add, change or delete. Their lists are
wide (ten columns of runs, cursors and errors), so they take the page's whole width: the
navigation sidebar is left out of the list pages (breadcrumbs and the index still lead
everywhere), which gave the Export runs table 791 px at 1440 px."""

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

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, extra_context={"is_nav_sidebar_enabled": False, **(extra_context or {})}
        )
