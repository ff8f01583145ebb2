"""Reads behind /dashboard/telemetry/ and its GDPR view.

Every function here runs a fixed number of queries whatever the data: the rollups are
already aggregated in SQL per hour bucket, a window holds at most 168 of them per domain or
model, and the freshness of all four tables is one UNION query. The results are plain
evaluated values (lists, dataclasses), so templates never touch the database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDay
from django.utils import timezone

from telemetry.charts import Chart, bar_chart, line_chart
from telemetry.models import (
    ChatTelemetryDomainRollup,
    ChatTelemetryModelRollup,
    ChatTelemetryRollup,
    GdprAuditLog,
)
from telemetry.monitors import (
    GDPR_AUDIT_FRESHNESS_COLUMNS,
    ROLLUP_FRESHNESS_COLUMNS,
    FreshnessThresholds,
    TableFreshness,
    table_freshness,
    tables_newest,
)

HOUR = timedelta(hours=1)
GDPR_RECENT_ENTRIES = 50
GDPR_HISTORY_DAYS = 30


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    hours: int


WINDOWS = {
    "24h": Window("24h", "Last 24 hours", 24),
    "7d": Window("7d", "Last 7 days", 7 * 24),
}
DEFAULT_WINDOW = "24h"


@dataclass(frozen=True)
class Breakdown:
    """One domain's or model's totals over the window."""

    name: str
    messages: int
    share: float
    failed_messages: int
    avg_latency_ms: float | None
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True)
class TelemetryDashboard:
    window: Window
    windows: list[Window]
    first_bucket: datetime
    last_bucket: datetime
    messages: int
    assistant_messages: int
    failed_messages: int
    avg_latency_ms: float | None
    input_tokens: int
    output_tokens: int
    messages_chart: Chart
    latency_chart: Chart
    tokens_chart: Chart
    domains_chart: Chart
    domains: list[Breakdown]
    models: list[Breakdown]
    freshness: list[TableFreshness]
    gdpr_freshness: TableFreshness

    @property
    def failure_rate(self) -> float | None:
        return self.failed_messages / self.assistant_messages if self.assistant_messages else None


def window_for(key: str | None) -> Window:
    """The window a ``?window=`` value names; anything unknown means the default."""
    return WINDOWS.get(key or "", WINDOWS[DEFAULT_WINDOW])


def freshness_of_all_tables(*, now: datetime) -> tuple[list[TableFreshness], TableFreshness]:
    """The rollup tables' and the GDPR audit log's freshness, in one query."""
    newest = tables_newest(ROLLUP_FRESHNESS_COLUMNS + GDPR_AUDIT_FRESHNESS_COLUMNS)
    rollups = FreshnessThresholds.for_rollups()
    rollup_checks = [
        table_freshness(table, newest[table], thresholds=rollups, now=now)
        for table, _ in ROLLUP_FRESHNESS_COLUMNS
    ]
    (gdpr_table, _), *_ = GDPR_AUDIT_FRESHNESS_COLUMNS
    gdpr_check = table_freshness(
        gdpr_table, newest[gdpr_table], thresholds=FreshnessThresholds.for_gdpr_audit(), now=now
    )
    return rollup_checks, gdpr_check


def _weighted_latency(pairs: list[tuple[float | None, int]]) -> float | None:
    """Average of bucket averages weighted by their message counts (buckets without a
    latency, e.g. only user messages, do not count)."""
    weight = sum(count for latency, count in pairs if latency is not None)
    if not weight:
        return None
    return sum(latency * count for latency, count in pairs if latency is not None) / weight


def _series_by(
    rows: list[dict], key: str, buckets: list[datetime], value, missing: float | None = None
) -> dict[str, list[float | None]]:
    """One value per bucket for each ``key`` (a domain, a model); ``missing`` fills the
    buckets without a row: 0 for counts, None (a gap in the line) for averages."""
    position = {bucket: index for index, bucket in enumerate(buckets)}
    series: dict[str, list[float | None]] = defaultdict(lambda: [missing] * len(buckets))
    for row in rows:
        # A refresh writes whole hours; a hand-made row at another minute joins its hour.
        index = position.get(row["bucket_start"].replace(minute=0, second=0, microsecond=0))
        if index is not None:
            series[row[key]][index] = value(row)
    return series


def _breakdowns(rows: list[dict], key: str, total_messages: int, tokens: bool) -> list[Breakdown]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    result = [
        Breakdown(
            name=name,
            messages=(messages := sum(r["messages"] for r in group)),
            share=messages / total_messages if total_messages else 0.0,
            failed_messages=sum(r["failed_messages"] for r in group),
            avg_latency_ms=_weighted_latency([(r["avg_latency_ms"], r["messages"]) for r in group]),
            input_tokens=sum(r["input_tokens"] for r in group) if tokens else None,
            output_tokens=sum(r["output_tokens"] for r in group) if tokens else None,
        )
        for name, group in grouped.items()
    ]
    return sorted(result, key=lambda b: (-b.messages, b.name))


def telemetry_dashboard(
    *, window_key: str | None, now: datetime | None = None
) -> TelemetryDashboard:
    """The chat telemetry of the window ending with the current hour bucket (4 queries)."""
    now = (now or timezone.now()).astimezone(UTC)
    window = window_for(window_key)
    last_bucket = now.replace(minute=0, second=0, microsecond=0)
    buckets = [last_bucket - HOUR * back for back in range(window.hours - 1, -1, -1)]
    first_bucket = buckets[0]
    in_window = Q(bucket_start__gte=first_bucket, bucket_start__lte=last_bucket)

    overall = {
        row["bucket_start"]: row
        for row in ChatTelemetryRollup.objects.filter(in_window).values(
            "bucket_start",
            "messages",
            "assistant_messages",
            "failed_messages",
            "avg_latency_ms",
            "input_tokens",
            "output_tokens",
        )
    }
    by_domain = list(
        ChatTelemetryDomainRollup.objects.filter(in_window)
        .order_by("bucket_start", "domain")
        .values("bucket_start", "domain", "messages", "failed_messages", "avg_latency_ms")
    )
    by_model = list(
        ChatTelemetryModelRollup.objects.filter(in_window)
        .order_by("bucket_start", "model")
        .values(
            "bucket_start",
            "model",
            "messages",
            "failed_messages",
            "avg_latency_ms",
            "input_tokens",
            "output_tokens",
        )
    )
    freshness, gdpr_freshness = freshness_of_all_tables(now=now)

    rows = list(overall.values())
    messages = sum(r["messages"] for r in rows)
    domains = _breakdowns(by_domain, "domain", messages, tokens=False)
    models = _breakdowns(by_model, "model", sum(r["messages"] for r in by_model), tokens=True)
    latency_by_model = _series_by(by_model, "model", buckets, lambda r: r["avg_latency_ms"])
    tokens_by_model = _series_by(
        by_model, "model", buckets, lambda r: r["input_tokens"] + r["output_tokens"], 0
    )
    messages_by_domain = _series_by(by_domain, "domain", buckets, lambda r: r["messages"], 0)

    return TelemetryDashboard(
        window=window,
        windows=list(WINDOWS.values()),
        first_bucket=first_bucket,
        last_bucket=last_bucket,
        messages=messages,
        assistant_messages=sum(r["assistant_messages"] for r in rows),
        failed_messages=sum(r["failed_messages"] for r in rows),
        avg_latency_ms=_weighted_latency(
            [(r["avg_latency_ms"], r["assistant_messages"]) for r in rows]
        ),
        input_tokens=sum(r["input_tokens"] for r in rows),
        output_tokens=sum(r["output_tokens"] for r in rows),
        messages_chart=bar_chart(
            title="Messages per hour",
            unit="messages",
            buckets=buckets,
            values=[overall[b]["messages"] if b in overall else 0 for b in buckets],
        ),
        latency_chart=line_chart(
            title="Average latency per hour, by model",
            unit="ms",
            buckets=buckets,
            series=[
                (m.name, latency_by_model[m.name], f"{m.avg_latency_ms or 0:,.0f} ms")
                for m in models
            ],
        ),
        tokens_chart=line_chart(
            title="Tokens (input + output) per hour, by model",
            unit="tokens",
            buckets=buckets,
            series=[
                (m.name, tokens_by_model[m.name], f"{m.input_tokens + m.output_tokens:,} tokens")
                for m in models
            ],
        ),
        domains_chart=line_chart(
            title="Messages per hour, by domain",
            unit="messages",
            buckets=buckets,
            series=[
                (d.name, messages_by_domain[d.name], f"{d.messages:,} messages") for d in domains
            ],
        ),
        domains=domains,
        models=models,
        freshness=freshness,
        gdpr_freshness=gdpr_freshness,
    )


@dataclass(frozen=True)
class ActionCount:
    action: str
    label: str
    total: int
    completed: int
    pending: int
    failed: int


@dataclass(frozen=True)
class GdprAuditOverview:
    freshness: TableFreshness
    recent: list[GdprAuditLog]
    per_day_chart: Chart
    by_action: list[ActionCount]
    total: int
    pending: int
    failed: int
    days: int

    @property
    def freshness_checks(self) -> list[TableFreshness]:
        return [self.freshness]


def gdpr_audit_overview(*, now: datetime | None = None) -> GdprAuditOverview:
    """The audit log's health, its recent entries and 30 days of counts (3 queries)."""
    now = (now or timezone.now()).astimezone(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=back) for back in range(GDPR_HISTORY_DAYS - 1, -1, -1)]
    (table, _), *_ = GDPR_AUDIT_FRESHNESS_COLUMNS
    freshness = table_freshness(
        table,
        tables_newest(GDPR_AUDIT_FRESHNESS_COLUMNS)[table],
        thresholds=FreshnessThresholds.for_gdpr_audit(),
        now=now,
    )
    recent = list(GdprAuditLog.objects.order_by("-created_at", "-id")[:GDPR_RECENT_ENTRIES])
    grouped = list(
        GdprAuditLog.objects.filter(created_at__gte=days[0])
        .annotate(day=TruncDay("created_at", tzinfo=UTC))
        .values("day", "action", "outcome")
        .annotate(count=Count("id"))
        .order_by()
    )

    per_day: dict[datetime, int] = defaultdict(int)
    per_action: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in grouped:
        per_day[row["day"]] += row["count"]
        per_action[row["action"]][row["outcome"]] += row["count"]
    by_action = [
        ActionCount(
            action=action,
            label=label,
            total=sum(per_action[action].values()),
            completed=per_action[action]["completed"],
            pending=per_action[action]["pending"],
            failed=per_action[action]["failed"],
        )
        for action, label in GdprAuditLog.Action.choices
    ]
    return GdprAuditOverview(
        freshness=freshness,
        recent=recent,
        per_day_chart=bar_chart(
            title=f"Audit entries per day, last {GDPR_HISTORY_DAYS} days",
            unit="entries",
            buckets=days,
            values=[per_day.get(day, 0) for day in days],
            daily=True,
        ),
        by_action=by_action,
        total=sum(a.total for a in by_action),
        pending=sum(a.pending for a in by_action),
        failed=sum(a.failed for a in by_action),
        days=GDPR_HISTORY_DAYS,
    )
