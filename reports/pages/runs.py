"""Run pages and cursor repair on the operator pages: /admin/reports/runs/<id>/ (one run in
full: times in UTC, rows, cursors, sink, error, webhook attempts) and the feed card's
"Rewind or backfill" (preview the rows to re-send, then apply; ``exports/cursor_repair.py``)."""

from __future__ import annotations

import re
from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from exports import cursor_repair, registry
from exports.models import CursorChange, ExportRun
from reports.pages import health
from smplat.audit.services import request_address
from smplat.cursors import InvalidCursor, parse_timestamp
from smplat.humanize import counted

VIEW_PERMISSION = "exports.view_exportrun"
REWIND_PERMISSION = "exports.add_cursorchange"


def _require(request, *permissions: str) -> None:
    if not request.user.has_perms(permissions):
        raise PermissionDenied


@require_GET
def run_detail(request, run_id: int):
    _require(request, VIEW_PERMISSION)
    run = get_object_or_404(ExportRun.objects.select_related("requested_by"), pk=run_id)
    attempts = list(run.attempts.all())
    batches: dict[int, list] = {}
    for attempt in attempts:
        batches.setdefault(attempt.batch, []).append(attempt)
    context = {
        **admin.site.each_context(request),
        "title": f"{run.get_feed_display()} run #{run.pk}",
        "run": run,
        "attempt_batches": sorted(batches.items()),
        "cursor_changes": list(run.cursor_changes.all()),
        "unit": _unit(run.feed),
        # A snapshot has no cursor: its run names the object it wrote.
        "snapshot": run.feed in {d.name for d in registry.snapshot_feeds()},
    }
    return render(request, "reports/run_detail.html", context)


def _unit(feed: str) -> str:
    try:
        return registry.feed(feed).unit
    except KeyError:
        return "rows"


class RewindForm(forms.Form):
    """Where the next run starts: rows from a UTC time on, or the beginning."""

    since = forms.CharField(required=False, max_length=100)
    beginning = forms.BooleanField(required=False)
    reason = forms.CharField(max_length=2000)

    def clean_since(self) -> datetime | None:
        text = self.cleaned_data["since"].strip()
        if not text:
            return None
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # a day: from its first instant
            text += "T00:00"
        try:
            return parse_timestamp(text)
        except InvalidCursor:
            raise forms.ValidationError(
                f"{text!r} is not a time: write it as 2026-11-30 06:00 (UTC)"
            ) from None

    def clean(self):
        data = super().clean()
        if "since" in data and bool(data.get("since")) == bool(data.get("beginning")):
            if data.get("beginning"):
                raise forms.ValidationError(
                    "Give a time to re-send from, or tick the beginning, not both."
                )
            raise forms.ValidationError("Give a time to re-send from, or tick the beginning.")
        return data


class RewindApplyForm(forms.Form):
    """The previewed change: the cursor to store and the one the operator saw ("" for
    the beginning)."""

    target = forms.CharField(required=False, max_length=300)
    expected_from = forms.CharField(required=False, max_length=300)
    reason = forms.CharField(max_length=2000)
    since = forms.CharField(required=False, max_length=100)


def _render_rewind(request, definition, *, form, preview=None, error=None, status=200):
    context = {
        **admin.site.each_context(request),
        "title": f"Rewind {definition.label}",
        "definition": definition,
        "form": form,
        "preview": preview,
        "error": error,
    }
    return render(request, "reports/cursor_rewind.html", context, status=status)


@require_http_methods(["GET", "POST"])
def cursor_rewind(request, feed: str):
    """GET: the preview (rows to re-send); POST: apply what was previewed."""
    _require(request, VIEW_PERMISSION, REWIND_PERMISSION)
    try:
        definition = cursor_repair.rewindable_feed(feed)
    except cursor_repair.NoCursor as exc:
        raise Http404(str(exc)) from exc  # no such feed, or a snapshot: no page to show
    except cursor_repair.CursorChangeRefused as exc:
        raise PermissionDenied(str(exc)) from exc  # a row feed this site cannot move
    if request.method == "POST":
        return _apply(request, definition)
    form = RewindForm(request.GET)
    if not form.is_valid():
        return _render_rewind(request, definition, form=form, status=400)
    try:
        since = form.cleaned_data["since"]
        target = None if since is None else cursor_repair.rewind_target(definition, at=since)
        preview = cursor_repair.cursor_preview(feed=feed, target=target)
    except cursor_repair.CursorChangeRefused as exc:
        return _render_rewind(request, definition, form=form, error=str(exc), status=400)
    return _render_rewind(request, definition, form=form, preview=preview)


def _apply(request, definition):
    form = RewindApplyForm(request.POST)
    if not form.is_valid():
        return _render_rewind(request, definition, form=form, status=400)
    data = form.cleaned_data
    try:
        target = cursor_repair.parse_target(definition, data["target"]) if data["target"] else None
        change = cursor_repair.cursor_change_apply(
            feed=definition.name,
            target=target,
            reason=data["reason"],
            changed_by=request.user,
            via=CursorChange.Via.CARD,
            expected_from=data["expected_from"] or None,
            address=request_address(request),
        )
    except cursor_repair.CursorChangeRefused as exc:
        return _render_rewind(request, definition, form=form, error=str(exc), status=409)
    health.card_message(
        request,
        messages.SUCCESS,
        definition.name,
        f"{definition.label}: cursor moved to {change.cursor_to or 'the beginning'}; the next"
        f" run re-sends"
        f" {counted(f'{change.rows_to_resend:,}' + ('+' if change.rows_capped else ''), definition.unit)}.",
    )
    return redirect(reverse("reports") + f"#card-{definition.name}")
