"""The admin of the export history: runs, cursor changes and health flips, read only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from exports import models
from smplat.humanize import seconds, utc
from smplat.readonly_admin import ReadOnlyAdmin

OUTCOME_COLOURS = {
    "succeeded": "#2e9a5b",
    "no_data": "#8a8a8a",
    "failed": "#ba2121",
    "queued": "#d69e2e",
    "running": "#d69e2e",
    "dispatched": "#d69e2e",
}


@admin.register(models.ExportRun)
class ExportRunAdmin(ReadOnlyAdmin):
    """Run history is written by the exporters; operators read it here. The list fits 1440 px:
    long values (cursors, errors) are cut with the whole text in their tooltip, and every
    time is UTC, said so."""

    list_display = [
        "run",
        "created_utc",
        "feed",
        "trigger_by",
        "outcome_badge",
        "rows",
        "duration",
        "sink",
        "cursor_after_short",
        "error_short",
    ]
    list_filter = ["feed", "outcome", "trigger", "sink"]
    search_fields = ["error", "cursor_after", "cursor_before"]
    list_select_related = ["requested_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "run_page",
        "feed",
        "trigger",
        "requested_by",
        "outcome_badge",
        "created_full",
        "started_utc",
        "finished_utc",
        "duration",
        "rows",
        "batches",
        "cursor_before",
        "cursor_after",
        "sink",
        "destination",
        "error",
        "external_url",
    ]
    readonly_fields = fields

    @admin.display(description="Run", ordering="id")
    def run(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="Trigger", ordering="trigger")
    def trigger_by(self, obj):
        who = obj.requested_by.get_username() if obj.requested_by else ""
        return f"{obj.get_trigger_display()}, {who}" if who else obj.get_trigger_display()

    @admin.display(description="Run page")
    def run_page(self, obj):
        return format_html(
            '<a href="{}">Run #{}</a>', reverse("reports-run", args=[obj.pk]), obj.pk
        )

    @admin.display(description="Created (UTC)", ordering="created_at")
    def created_utc(self, obj):
        return utc(obj.created_at).removesuffix(" UTC")

    @admin.display(description="Created (UTC)")
    def created_full(self, obj):
        return utc(obj.created_at)

    @admin.display(description="Started (UTC)", ordering="started_at")
    def started_utc(self, obj):
        return utc(obj.started_at)

    @admin.display(description="Finished (UTC)", ordering="finished_at")
    def finished_utc(self, obj):
        return utc(obj.finished_at)

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_badge(self, obj):
        return format_html(
            '<span style="background:{};color:#fff;padding:1px 6px;border-radius:4px;'
            'display:inline-block">{}</span>',
            OUTCOME_COLOURS.get(obj.outcome, "#8a8a8a"),
            obj.get_outcome_display(),
        )

    @admin.display(description="Took")
    def duration(self, obj):
        return seconds(obj.duration_seconds)

    @admin.display(description="Cursor after")
    def cursor_after_short(self, obj):
        return _cut(obj.cursor_after, 24)

    @admin.display(description="Error")
    def error_short(self, obj):
        return _cut(obj.error, 32)


@admin.register(models.CursorChange)
class CursorChangeAdmin(ReadOnlyAdmin):
    """Cursors moved by hand (the card's rewind, ``export_cursor``): an audit, read only."""

    list_display = [
        "changed_utc",
        "feed",
        "actor",
        "via",
        "cursor_from_short",
        "cursor_to_short",
        "rows_to_resend",
        "reason",
    ]
    list_filter = ["feed", "via"]

    @admin.display(description="Changed (UTC)", ordering="changed_at")
    def changed_utc(self, obj):
        return utc(obj.changed_at).removesuffix(" UTC")

    @admin.display(description="Cursor from")
    def cursor_from_short(self, obj):
        return _cut(obj.cursor_from, 24) if obj.cursor_from else "the beginning"

    @admin.display(description="Cursor to")
    def cursor_to_short(self, obj):
        return _cut(obj.cursor_to, 24) if obj.cursor_to else "the beginning"


@admin.register(models.FeedFlip)
class FeedFlipAdmin(ReadOnlyAdmin):
    """Each change of a feed's health state (exports/health.py), as its card lists them."""

    list_display = ["at_utc", "feed", "from_state", "to_state", "reason_short", "alert"]
    list_filter = ["feed", "to_state"]
    date_hierarchy = "at"
    show_full_result_count = False

    @admin.display(description="At (UTC)", ordering="at")
    def at_utc(self, obj):
        return utc(obj.at).removesuffix(" UTC")

    @admin.display(description="Why")
    def reason_short(self, obj):
        return _cut(obj.reason, 80)


def _cut(text: str | None, length: int):
    if not text:
        return "-"
    return format_html(
        '<span class="cut" title="{}">{}</span>', text, Truncator(text).chars(length)
    )
