"""/admin/onboarding/: journeys and their checklists, pricing experiment segments (filters,
summary, recent rows, CSV download) and the local quick-order funnel, inside the admin.

The views are wrapped in ``admin.site.admin_view`` where the URLs are declared: anonymous
users and accounts without staff status go to the admin login, staff without the view
permissions get 403. Every read is evaluated here, before rendering, in a fixed number of
queries whatever the amount of data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.request import QueryDict
from django.shortcuts import render
from django.utils.timesince import timesince
from django.views.decorators.http import require_safe

from exports.models import Feed
from reports.pages import health
from reports.pages.comparison import funnel_comparison
from reports.pages.paging import newest_first_page
from smplat.cursors import Cursor, InvalidCursor, keyset_page, parse_cursor
from telemetry.models import (
    OnboardingJourney,
    OnboardingJourneyEvent,
    OnboardingJourneyStatusCount,
    OnboardingJourneyTask,
    PricingExperimentSegment,
)
from telemetry.rows import SEGMENT_COLUMNS
from telemetry.selectors import (
    SegmentFilters,
    experiment_segment_choices,
    experiment_segment_summary,
    experiment_segments_csv,
    quick_order_funnel,
)

JOURNEY_PERMISSION = "telemetry.view_onboardingjourney"
SEGMENT_PERMISSION = "telemetry.view_pricingexperimentsegment"
FUNNEL_PERMISSION = "telemetry.view_quickorderevent"
PAGE_PERMISSIONS = (JOURNEY_PERMISSION, SEGMENT_PERMISSION)

# As the admin index and sidebar name the page (reports.pages.admin_site.OPERATOR_PAGES).
PAGE_TITLE = "Onboarding & experiments"
JOURNEYS_PER_PAGE = 20
RECENT_SEGMENTS = 50
CSV_FILENAME = "onboarding-experiment-segments.csv"


# --- Filters ---------------------------------------------------------------------------------


class JourneyFilterForm(forms.Form):
    """``?status=`` and the keyset position ``?before=<created_at>~<journey id>``."""

    status = forms.ChoiceField(
        required=False, choices=[("", "All"), *OnboardingJourney.Status.choices]
    )
    before = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def clean_before(self) -> Cursor | None:
        text = self.cleaned_data["before"]
        if not text:
            return None
        try:
            return parse_cursor(text, id_kind=uuid.UUID)
        except InvalidCursor as exc:
            raise forms.ValidationError(f"Not a journey position: {exc}") from exc


class SegmentFilterForm(forms.Form):
    """The experiment segment filters; a GET form, shared by the page and the CSV download."""

    COHORTS = [
        ("all", "All cohorts"),
        ("control", "Control only"),
        ("variant", "Variants only"),
    ]

    slug = forms.ChoiceField(required=False, label="Experiment")
    variant = forms.CharField(required=False, max_length=200, label="Variant key")
    control = forms.ChoiceField(required=False, choices=COHORTS, label="Cohort")
    date_from = forms.DateField(
        required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )

    # ?rows_before= / ?rows_after=: the position of the newest-rows table (not filters).
    rows_before = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    rows_after = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    FIELDS = ("slug", "variant", "control", "date_from", "date_to")

    def _rows_position(self, name: str) -> Cursor | None:
        text = self.cleaned_data[name]
        if not text:
            return None
        try:
            return parse_cursor(text, id_kind=int)
        except InvalidCursor as exc:
            raise forms.ValidationError(f"Not a position in the rows: {exc}") from exc

    def clean_rows_before(self) -> Cursor | None:
        return self._rows_position("rows_before")

    def clean_rows_after(self) -> Cursor | None:
        return self._rows_position("rows_after")

    def __init__(self, data: QueryDict, *, known: dict[str, list[str]]) -> None:
        super().__init__(data, label_suffix="")
        self.known = known
        self.fields["slug"].choices = [("", "All experiments"), *((s, s) for s in known)]
        self.fields["variant"].widget.attrs.update(list="variant-keys", placeholder="any")

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The “From” date is after the “To” date.")
        return cleaned

    def filters(self) -> SegmentFilters:
        data = self.cleaned_data
        return SegmentFilters(
            slug=data["slug"] or None,
            variant_key=data["variant"].strip() or None,
            is_control={"control": True, "variant": False}.get(data["control"]),
            since=_day_start(data["date_from"]),
            # "To" is inclusive: rows before the start of the next day (none after the last).
            until=_day_start(data["date_to"] + timedelta(days=1))
            if data["date_to"] and data["date_to"] < date.max
            else None,
        )

    def query_string(self) -> str:
        """The submitted filters (and only those) as a query string, for the CSV link."""
        query = QueryDict(mutable=True)
        for name in self.FIELDS:
            value = self.data.get(name)
            if value:
                query[name] = value
        return query.urlencode()

    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.FIELDS if name != "control") or (
            self.data.get("control", "all") != "all"
        )

    def variant_suggestions(self) -> list[str]:
        """Variant keys of the chosen experiment (of all of them without one), for a datalist."""
        slug = self.data.get("slug")
        keys = self.known.get(slug) if slug in self.known else None
        if keys is None:
            keys = sorted({key for variants in self.known.values() for key in variants})
        return keys


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


# --- Reads -----------------------------------------------------------------------------------


@dataclass
class JourneyPage:
    journeys: list[dict] = field(default_factory=list)
    next_cursor: str | None = None
    status_counts: dict[str, int] = field(default_factory=dict)
    total: int = 0


def onboarding_journeys_page(
    *, status: str | None, before: Cursor | None, limit: int = JOURNEYS_PER_PAGE
) -> JourneyPage:
    """The newest journeys (a keyset page over (created_at, id)), each with its checklist
    progress, its first and last event and the experiments it was assigned, and the number
    of journeys per status.

    Five queries whatever the page size: status counts, the journeys, their tasks, their
    events' span, their experiment assignments.
    """
    # Kept by triggers (telemetry migration 0002): three rows, not a count of every journey.
    counts = dict(OnboardingJourneyStatusCount.objects.values_list("status", "journeys"))
    queryset = OnboardingJourney.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    journeys, next_cursor = keyset_page(
        queryset,
        cursor=before,
        limit=limit,
        descending=True,
        timestamp_field="created_at",
        columns=("id", "order_id", "order_number", "status", "created_at", "updated_at"),
    )
    ids = [journey["id"] for journey in journeys]
    tasks: dict[uuid.UUID, list[dict]] = {journey_id: [] for journey_id in ids}
    for task in (
        OnboardingJourneyTask.objects.filter(journey_id__in=ids)
        .order_by("journey_id", "position", "key")
        .values("journey_id", "key", "title", "completed", "completed_at")
    ):
        tasks[task["journey_id"]].append(task)
    activity = {
        row["journey_id"]: row
        for row in OnboardingJourneyEvent.objects.filter(journey_id__in=ids)
        .order_by()
        .values("journey_id")
        .annotate(first=Min("recorded_at"), last=Max("recorded_at"), events=Count("id"))
    }
    experiments: dict[uuid.UUID, dict[tuple, dict]] = {journey_id: {} for journey_id in ids}
    # Through the event: segments are indexed by event, journeys' events by journey.
    for segment in (
        PricingExperimentSegment.objects.filter(event__journey_id__in=ids)
        .order_by("recorded_at", "id")
        .values("journey_id", "slug", "variant_key", "is_control")
    ):
        key = (segment["slug"], segment["variant_key"])
        experiments[segment["journey_id"]].setdefault(key, segment)

    for journey in journeys:
        checklist = tasks[journey["id"]]
        done = sum(1 for task in checklist if task["completed"])
        journey["checklist"] = checklist
        journey["tasks_done"] = done
        journey["tasks_total"] = len(checklist)
        journey["progress"] = round(done * 100 / len(checklist)) if checklist else 0
        journey["next_task"] = next((t["title"] for t in checklist if not t["completed"]), None)
        journey["experiments"] = list(experiments[journey["id"]].values())
        span = activity.get(journey["id"], {})
        journey["first_event_at"] = span.get("first")
        journey["last_event_at"] = span.get("last")
        # "3 hours ago", not "3 hours, 12 minutes ago": the table stays narrow.
        journey["last_event_ago"] = timesince(span["last"], depth=1) if span else None
        journey["events"] = span.get("events", 0)
    status_counts = {value: counts.get(value, 0) for value in OnboardingJourney.Status.values}
    return JourneyPage(
        journeys=journeys,
        next_cursor=next_cursor,
        status_counts=status_counts,
        total=sum(counts.values()),
    )


# --- Views -----------------------------------------------------------------------------------


def _require(request: HttpRequest, *permissions: str) -> None:
    if not request.user.has_perms(permissions):
        raise PermissionDenied


def _journeys_context(form: JourneyFilterForm) -> dict:
    if not form.is_valid():
        return {"form": form, "page": None}
    status = form.cleaned_data["status"]
    page = onboarding_journeys_page(status=status or None, before=form.cleaned_data["before"])
    statuses = [
        {"value": "", "label": "All", "count": page.total},
        *(
            {"value": value, "label": label, "count": page.status_counts[value]}
            for value, label in OnboardingJourney.Status.choices
        ),
    ]
    return {"form": form, "page": page, "status": status, "statuses": statuses}


def _segments_context(form: SegmentFilterForm) -> dict:
    if not form.is_valid():
        return {"form": form, "valid": False}
    filters = form.filters()
    summary = experiment_segment_summary(filters=filters)
    return {
        "form": form,
        "valid": True,
        "summary": summary,
        "total": sum(experiment["rows"] for experiment in summary),
        "rows": newest_first_page(
            filters.apply(PricingExperimentSegment.objects.all()),
            before=form.cleaned_data["rows_before"],
            after=form.cleaned_data["rows_after"],
            limit=RECENT_SEGMENTS,
            timestamp_field="recorded_at",
            columns=SEGMENT_COLUMNS,
        ),
        "recent_limit": RECENT_SEGMENTS,
        "csv_query": form.query_string(),
        "filtered": form.is_filtered(),
    }


@require_safe
def onboarding_view(request: HttpRequest) -> HttpResponse:
    _require(request, *PAGE_PERMISSIONS)
    segment_form = SegmentFilterForm(request.GET, known=experiment_segment_choices())
    can_view_funnel = request.user.has_perm(FUNNEL_PERMISSION)
    # The exports this page's data feeds, as on /admin/reports: the segment feed's health,
    # and the quick-order export's metrics beside the local funnel (which the quick-order
    # card's drift check read already).
    cards = health.feed_cards([Feed.ONBOARDING_PRICING_SEGMENTS, Feed.QUICK_ORDER_TELEMETRY])
    funnel = None
    if can_view_funnel:
        funnel = cards[1].health.local_metrics or quick_order_funnel()
    context = {
        **admin.site.each_context(request),
        "title": PAGE_TITLE,
        "journeys": _journeys_context(JourneyFilterForm(request.GET)),
        "segments": _segments_context(segment_form),
        "funnel": funnel,
        "can_view_funnel": can_view_funnel,
        "cards": cards,
        **health.card_context(request),
        "quick_order_card": cards[1],
        "comparison": funnel_comparison(funnel, cards[1]) if funnel else None,
    }
    return render(request, "reports/onboarding.html", context)


@require_safe
def onboarding_segments_csv_view(request: HttpRequest) -> HttpResponse:
    """Exactly the rows the page's filters select, oldest first, with the data-lake header."""
    _require(request, SEGMENT_PERMISSION)
    form = SegmentFilterForm(request.GET, known=experiment_segment_choices())
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(
            f"Invalid filters ({problems})\n", content_type="text/plain; charset=utf-8"
        )
    response = StreamingHttpResponse(
        experiment_segments_csv(filters=form.filters()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{CSV_FILENAME}"'
    return response
