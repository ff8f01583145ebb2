"""The audit trail in the admin: read-only, for staff holding ``audit.view_auditentry``."""

from django.contrib import admin

from smplat.audit.models import AuditEntry
from smplat.readonly_admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "target", "address"]
    list_filter = ["action"]
    search_fields = ["actor", "target"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
