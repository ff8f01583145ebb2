"""Reads of telemetry: experiment segments, the rolling windows, onboarding journeys."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time

from django.db.models import Count, Max, Min, QuerySet, Sum
from django.db.models.expressions import RawSQL

from smplat.cursors import (
    Cursor,
    format_timestamp,
    keyset_page,
)
from smplat.ndjson import ndjson_line
from smplat.textpages import text_pages
from telemetry.metrics import GuardrailWorkflowMetrics, completion_rate
from telemetry.models import (
    GuardrailWorkflowEvent,
    OnboardingJourney,
    OnboardingJourneyEvent,
    PricingExperimentSegment,
    PricingExperimentSegmentCount,
    QuickOrderEvent,
)
from telemetry.rows import (
    GUARDRAIL_WORKFLOW_COLUMNS,
    QUICK_ORDER_COLUMNS,
    SEGMENT_COLUMNS,
    SEGMENT_CSV_HEADER,
    SEGMENT_CSV_LINE_SQL,
    guardrail_workflow_row,
    quick_order_row,
    segment_row,
)

# --- Pricing experiment segments ------------------------------------------------------------


@dataclass(frozen=True)
class SegmentFilters:
    slug: str | None = None
    variant_key: str | None = None
    is_control: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    # The commit watermark (smplat/watermark.py): pages that hand out cursors stay below it.
    committed_before: datetime | None = None

    def apply(self, queryset: QuerySet) -> QuerySet:
        if self.slug:
            queryset = queryset.filter(slug=self.slug)
        if self.variant_key:
            queryset = queryset.filter(variant_key=self.variant_key)
        if self.is_control is not None:
            queryset = queryset.filter(is_control=self.is_control)
        if self.since:
            queryset = queryset.filter(recorded_at__gte=self.since)
        if self.until:
            queryset = queryset.filter(recorded_at__lt=self.until)
        if self.committed_before:
            queryset = queryset.filter(recorded_at__lt=self.committed_before)
        return queryset


def experiment_segments_page(
    *, filters: SegmentFilters, cursor: Cursor | None, limit: int, descending: bool = False
) -> tuple[list[dict], str | None]:
    """A page of experiment rows (one per recorded experiment) and the next cursor.

    The cursor's id is the segment row's own id: one event can carry several experiments,
    so the event id alone would not order them.
    """
    rows, next_cursor = keyset_page(
        filters.apply(PricingExperimentSegment.objects.all()),
        cursor=cursor,
        limit=limit,
        descending=descending,
        timestamp_field="recorded_at",
        columns=SEGMENT_COLUMNS,
    )
    return [segment_row(row) for row in rows], next_cursor


def experiment_segments_csv(
    *,
    filters: SegmentFilters,
    cursor: Cursor | None = None,
    limit: int | None = None,
    descending: bool = False,
    batch_size: int = 20_000,
) -> Iterator[bytes]:
    """The filtered rows as CSV with the data-lake header, streamed in keyset batches.

    PostgreSQL writes the lines (``SEGMENT_CSV_LINE_SQL``, ``csv_safe`` applied in SQL), a
    batch at a time and read ahead (``smplat/textpages.py``); Python passes the bytes on.
    Memory stays flat whatever the number of rows: each batch is sent and dropped.
    """
    yield (",".join(SEGMENT_CSV_HEADER) + "\n").encode()
    for text, _ in text_pages(
        filters.apply(PricingExperimentSegment.objects.all()),
        line_sql=SEGMENT_CSV_LINE_SQL,
        start=cursor,
        timestamp_field="recorded_at",
        batch_size=batch_size,
        limit=limit,
        descending=descending,
        id_kind=int,
    ):
        yield text


# --- Rolling windows ------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowExport:
    """A frozen view of a window: ``count`` rows, and their NDJSON lines."""

    count: int
    lines: Iterator[bytes]


def _window_export(
    model: type[QuickOrderEvent] | type[GuardrailWorkflowEvent],
    columns: tuple[str, ...],
    to_row: Callable[[dict], dict],
    limit: int | None,
    lines_per_chunk: int = 1000,
) -> WindowExport:
    """The newest ``limit`` rows of the window (all of it without a limit), oldest first.

    Read by one statement, so by one snapshot: the count header and the body agree even
    while events arrive, an insert that commits late (with an older id) is in both or in
    neither, and a trim during a slow download cannot take rows the header counted. A
    window is at most a few thousand rows (a few MB); they are encoded chunk by chunk as
    the client reads.
    """
    size = model.WINDOW if limit is None else min(limit, model.WINDOW)
    rows = list(model.objects.window(size).order_by("id").values(*columns))

    def lines() -> Iterator[bytes]:
        for start in range(0, len(rows), lines_per_chunk):
            chunk = rows[start : start + lines_per_chunk]
            yield b"".join(ndjson_line(to_row(row)) for row in chunk)

    return WindowExport(count=len(rows), lines=lines())


def quick_order_export(*, limit: int | None = None) -> WindowExport:
    return _window_export(QuickOrderEvent, QUICK_ORDER_COLUMNS, quick_order_row, limit)


def guardrail_workflow_export(*, limit: int | None = None) -> WindowExport:
    return _window_export(
        GuardrailWorkflowEvent, GUARDRAIL_WORKFLOW_COLUMNS, guardrail_workflow_row, limit
    )


def guardrail_workflow_summary() -> dict:
    """What the guardrail workflow window says, for the automation history and the cards.

    ``actionCounts``, ``attachmentTotals`` and ``providerActivity`` are counted by the
    exported status payload's own definition (``telemetry.metrics.GuardrailWorkflowMetrics``)
    over the window's rows, so the API and a snapshot of the same window agree; plus
    ``events`` and ``lastEventAt``. The window is at most 2 000 rows (and its trim slack).
    """
    metrics = GuardrailWorkflowMetrics()
    last = None
    # Arrival order, as the export route streams the window.
    window = GuardrailWorkflowEvent.objects.window().order_by("id")
    for values in window.values(*GUARDRAIL_WORKFLOW_COLUMNS):
        metrics.add(guardrail_workflow_row(values))
        if last is None or values["recorded_at"] > last:
            last = values["recorded_at"]
    return {
        "events": metrics.seen,
        "lastEventAt": format_timestamp(last) if last else None,
        **metrics.result(empty_as_null=False),
    }


# --- Onboarding journeys --------------------------------------------------------------------


def onboarding_journey_detail(*, order_id: uuid.UUID, recent_events: int = 20) -> dict | None:
    """The order's journey with its checklist and its most recent events, or None."""
    journey = OnboardingJourney.objects.filter(order_id=order_id).first()
    if journey is None:
        return None
    tasks = list(journey.tasks.order_by("position", "key"))
    events = list(journey.events.order_by("-recorded_at", "-id")[:recent_events])
    done = sum(1 for task in tasks if task.completed)
    return {
        "journeyId": str(journey.id),
        "orderId": str(journey.order_id),
        "orderNumber": journey.order_number,
        "status": journey.status,
        "createdAt": format_timestamp(journey.created_at),
        "updatedAt": format_timestamp(journey.updated_at),
        "progress": {"completed": done, "total": len(tasks)},
        "checklist": [
            {
                "key": task.key,
                "title": task.title,
                "completed": task.completed,
                "completedAt": format_timestamp(task.completed_at) if task.completed_at else None,
            }
            for task in tasks
        ],
        "recentEvents": [journey_event_row(event) for event in events],
    }


def journey_event_row(event: OnboardingJourneyEvent) -> dict:
    """An onboarding event as the API shows it."""
    return {
        "eventId": str(event.id),
        "eventType": event.event_type,
        "taskKey": event.task_key,
        "metadata": event.metadata,
        "recordedAt": format_timestamp(event.recorded_at),
    }


# --- Operator pages: onboarding experiments and the quick-order funnel ----------------------


def experiment_segment_choices(*, limit: int = 500) -> dict[str, list[str]]:
    """The known experiments for filter forms: ``{slug: [variant_key, ...]}``, sorted.

    One query over the per-day counts (``PricingExperimentSegmentCount``), whose size does
    not grow with the segments; ``limit`` bounds the pairs so a client sending thousands of
    made-up slugs cannot make the form unbounded.
    """
    pairs = (
        PricingExperimentSegmentCount.objects.filter(rows__gt=0)
        .order_by("slug", "variant_key")
        .values_list("slug", "variant_key")
        .distinct()[:limit]
    )
    choices: dict[str, list[str]] = {}
    for slug, variant_key in pairs:
        choices.setdefault(slug, []).append(variant_key)
    return choices


def _whole_day(value: datetime | None) -> bool:
    """No bound, or midnight UTC: a bound the per-day counts answer exactly."""
    return value is None or value.astimezone(UTC).timetz().replace(tzinfo=None) == time.min


def experiment_segment_summary(*, filters: SegmentFilters) -> list[dict]:
    """The filtered rows counted per {slug, variant_key} in SQL, grouped by slug.

    Returns ``[{"slug", "rows", "control_rows", "control_share", "variants": [{"variant_key",
    "variant_name", "rows", "control_rows", "control_share", "slug_share"}]}]``; shares are
    percentages. Counts are grouped by ``is_control`` too, so a variant recorded both as
    control and not (a client bug) shows as mixed instead of being hidden.

    Filters on whole UTC days (the page's date filters) are answered from the per-day counts,
    so the cost does not grow with the segments; other time bounds count the rows.
    """
    if _whole_day(filters.since) and _whole_day(filters.until):
        counts = PricingExperimentSegmentCount.objects.filter(rows__gt=0)
        if filters.slug:
            counts = counts.filter(slug=filters.slug)
        if filters.variant_key:
            counts = counts.filter(variant_key=filters.variant_key)
        if filters.is_control is not None:
            counts = counts.filter(is_control=filters.is_control)
        if filters.since:
            counts = counts.filter(day__gte=filters.since.astimezone(UTC).date())
        if filters.until:
            counts = counts.filter(day__lt=filters.until.astimezone(UTC).date())
        groups = (
            counts.order_by()
            .values("slug", "variant_key", "is_control")
            .annotate(rows=Sum("rows"), variant_name=Max("variant_name"))
            .order_by("slug", "variant_key", "is_control")
        )
    else:
        groups = (
            filters.apply(PricingExperimentSegment.objects.all())
            .order_by()
            .values("slug", "variant_key", "is_control")
            .annotate(rows=Count("id"), variant_name=Max("variant_name"))
            .order_by("slug", "variant_key", "is_control")
        )
    slugs: dict[str, dict] = {}
    for group in groups:
        slug = slugs.setdefault(
            group["slug"], {"slug": group["slug"], "rows": 0, "control_rows": 0, "variants": {}}
        )
        variant = slug["variants"].setdefault(
            group["variant_key"],
            {
                "variant_key": group["variant_key"],
                "variant_name": group["variant_name"],
                "rows": 0,
                "control_rows": 0,
            },
        )
        variant["variant_name"] = variant["variant_name"] or group["variant_name"]
        control_rows = group["rows"] if group["is_control"] else 0
        for counter in (slug, variant):
            counter["rows"] += group["rows"]
            counter["control_rows"] += control_rows

    def share(part: int, whole: int) -> float:
        return round(part * 100 / whole, 1) if whole else 0.0

    summary = []
    for slug in slugs.values():
        variants = sorted(
            slug["variants"].values(), key=lambda v: (-v["control_rows"], v["variant_key"])
        )
        for variant in variants:
            variant["control_share"] = share(variant["control_rows"], variant["rows"])
            variant["slug_share"] = share(variant["rows"], slug["rows"])
        summary.append(
            {
                "slug": slug["slug"],
                "rows": slug["rows"],
                "control_rows": slug["control_rows"],
                "control_share": share(slug["control_rows"], slug["rows"]),
                "variants": variants,
            }
        )
    return summary


def quick_order_funnel() -> dict:
    """The funnel of the local quick-order window, in the exported status payload's terms.

    ``startCount``, ``abortCount``, ``completeCount`` and ``completionRate`` (completes per
    start in percent, one decimal, None without starts: the rounding of the exported
    metrics, so the two compare one to one), plus ``abortReasons`` (``[{"reason", "count"}]``,
    most frequent first; reason None when an abort carries none), ``events`` (rows in the
    window) and ``lastRecordedAt`` (a datetime, or None). One grouped query.
    """
    abort = QuickOrderEvent.EventName.ABORT
    # The reason only for aborts, so other events' metadata never multiplies the groups.
    reason = RawSQL(
        "CASE WHEN event_name = %s THEN NULLIF(metadata ->> 'reason', '') END", (abort.value,)
    )
    groups = (
        QuickOrderEvent.objects.window()
        .order_by()
        .values("event_name", reason=reason)
        .annotate(count=Count("id"), last=Max("recorded_at"))
    )
    counts = dict.fromkeys(QuickOrderEvent.EventName.values, 0)
    reasons: dict[str | None, int] = {}
    last = None
    for group in groups:
        counts[group["event_name"]] = counts.get(group["event_name"], 0) + group["count"]
        if group["event_name"] == abort:
            reasons[group["reason"]] = reasons.get(group["reason"], 0) + group["count"]
        if last is None or group["last"] > last:
            last = group["last"]
    starts = counts[QuickOrderEvent.EventName.START]
    completes = counts[QuickOrderEvent.EventName.COMPLETE]
    return {
        "startCount": starts,
        "abortCount": counts[abort],
        "completeCount": completes,
        "completionRate": completion_rate(starts, completes),
        "abortReasons": [
            {"reason": name, "count": count}
            for name, count in sorted(
                reasons.items(), key=lambda item: (-item[1], item[0] is None, item[0] or "")
            )
        ],
        "events": sum(counts.values()),
        "lastRecordedAt": last,
    }


def window_events_after(
    model: type[QuickOrderEvent] | type[GuardrailWorkflowEvent], after: datetime | None, cap: int
) -> tuple[int, datetime | None]:
    """Events of ``model``'s rolling window recorded after ``after`` (all for None), counted
    up to ``cap + 1``, and the oldest one's ``recorded_at``: what a telemetry export's next
    snapshot would add (``SnapshotFeed.pending``). One aggregate bounded by the window."""
    events = model.objects.window()
    if after is not None:
        events = events.filter(recorded_at__gt=after)
    figures = (
        events.order_by("recorded_at", "id")
        .values("recorded_at")[: cap + 1]
        .aggregate(count=Count("*"), oldest=Min("recorded_at"))
    )
    return figures["count"], figures["oldest"]
