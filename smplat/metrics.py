"""``GET /metrics``: Prometheus text format, for ``Authorization: Bearer $METRICS_TOKEN``.

Two kinds of numbers. Request counts are counted in the web processes as they answer
(prometheus_client; under gunicorn set PROMETHEUS_MULTIPROC_DIR so that every worker's counts
are summed, else each scrape sees one worker's). Everything about exports and telemetry is
read from the database at scrape time (a handful of aggregate queries), so it is right
whichever process, host or GitHub workflow ran the export.
"""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.db.models import Count, Max, Q, Sum
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from smplat.api.exceptions import error_body
from smplat.request_metrics import REQUEST_SECONDS, REQUESTS

# The health states of SPEC §8 (exports.models.HealthState), one gauge each per feed.
FEED_STATES = ("never", "running", "fresh", "late", "stale", "failing", "stuck")


def feed_healths():
    """Each card feed's health by the one rule (``exports.health``: the card, the badge and
    ``monitor_exports`` say the same), from the run history and the database; no status
    payload is fetched at scrape time, so the status-only facts (a payload's newer sync,
    quick-order drift) are the monitor's and the card's, not this scrape's."""
    from exports import registry
    from exports.health import feed_health, recent_runs

    definitions = registry.card_feeds()
    runs = recent_runs([d.name for d in definitions])
    now = timezone.now()
    # A scrape reads no status payload, so a run it closes as abandoned is recorded by the
    # next look that does (a page, the monitor), not judged here without it.
    return [feed_health(d, runs=runs[d.name], now=now, record_abandoned=False) for d in definitions]


class DatabaseCollector:
    """Export and telemetry figures, read from the database when Prometheus scrapes."""

    def collect(self):
        yield from self._export_runs()
        yield from self._feed_states()
        yield from self._telemetry_windows()

    def _export_runs(self):
        from exports.models import ExportRun, Feed

        now = timezone.now()
        success = Q(outcome__in=[ExportRun.Outcome.SUCCEEDED, ExportRun.Outcome.NO_DATA])
        totals = {
            row["feed"]: row
            for row in ExportRun.objects.values("feed").annotate(
                rows=Sum("rows"),
                runs=Count("id"),
                last_success=Max("finished_at", filter=success),
            )
        }
        finished = [
            ExportRun.Outcome.SUCCEEDED,
            ExportRun.Outcome.NO_DATA,
            ExportRun.Outcome.FAILED,
        ]
        last_runs = {
            run.feed: run
            for run in ExportRun.objects.filter(outcome__in=finished, finished_at__isnull=False)
            .order_by("feed", "-finished_at", "-id")
            .distinct("feed")
            .only("feed", "outcome", "started_at", "finished_at")
        }
        rows = CounterMetricFamily(
            "smplat_export_rows_exported",
            "Rows exported, summed over the feed's recorded runs.",
            labels=["feed"],
        )
        since = GaugeMetricFamily(
            "smplat_export_last_success_age_seconds",
            "Seconds since the feed's last successful run finished (absent: never).",
            labels=["feed"],
        )
        success_at = GaugeMetricFamily(
            "smplat_export_last_success_timestamp_seconds",
            "Unix time the feed's last successful run finished (absent: never).",
            labels=["feed"],
        )
        duration = GaugeMetricFamily(
            "smplat_export_last_run_duration_seconds",
            "Duration of the feed's last finished run.",
            labels=["feed"],
        )
        outcome = GaugeMetricFamily(
            "smplat_export_last_run_outcome",
            "1 for the outcome of the feed's last finished run, 0 for the others.",
            labels=["feed", "outcome"],
        )
        for feed in Feed.values:
            total = totals.get(feed, {})
            rows.add_metric([feed], total.get("rows") or 0)
            if total.get("last_success"):
                since.add_metric([feed], (now - total["last_success"]).total_seconds())
                success_at.add_metric([feed], total["last_success"].timestamp())
            run = last_runs.get(feed)
            if run is not None:
                duration.add_metric([feed], run.duration_seconds or 0.0)
                for value in finished:
                    outcome.add_metric([feed, value], 1.0 if run.outcome == value else 0.0)
        yield from (rows, since, success_at, duration, outcome)

    def _feed_states(self):
        state = GaugeMetricFamily(
            "smplat_export_feed_state",
            "1 for the feed's current health state, 0 for the other states.",
            labels=["feed", "state"],
        )
        behind = GaugeMetricFamily(
            "smplat_export_feed_rows_behind",
            "Rows (events) in the source after the feed's cursor, counted up to"
            " EXPORT_ROWS_BEHIND_CAP (absent when unknown).",
            labels=["feed"],
        )
        for health in feed_healths():
            for value in FEED_STATES:
                state.add_metric([health.feed, value], 1.0 if health.state == value else 0.0)
            if health.behind.count is not None:
                behind.add_metric([health.feed], float(health.behind.count))
        yield state
        yield behind

    def _telemetry_windows(self):
        from telemetry.models import GuardrailWorkflowEvent, QuickOrderEvent

        rows = GaugeMetricFamily(
            "smplat_telemetry_window_rows",
            "Events in the rolling telemetry window (what the NDJSON export serves).",
            labels=["window"],
        )
        capacity = GaugeMetricFamily(
            "smplat_telemetry_window_capacity",
            "Size of the rolling telemetry window.",
            labels=["window"],
        )
        for name, model in (
            ("quick_order", QuickOrderEvent),
            ("guardrail_workflow", GuardrailWorkflowEvent),
        ):
            rows.add_metric([name], model.objects.window().count())
            capacity.add_metric([name], model.WINDOW)
        yield from (rows, capacity)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(REQUEST_SECONDS)
    registry.register(DatabaseCollector())
    return registry


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, presented = header.partition(" ")
    return bool(
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    )


@never_cache
@require_GET
def metrics(request):
    """404 when METRICS_TOKEN is unset (no metrics endpoint), 401 without the right token."""
    if not settings.METRICS_TOKEN:
        return JsonResponse(error_body("not_found", "No such route or object."), status=404)
    if not _authorized(request):
        response = JsonResponse(
            error_body("not_authenticated", "Send Authorization: Bearer <METRICS_TOKEN>."),
            status=401,
        )
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
