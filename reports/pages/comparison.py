"""The local quick-order funnel beside the exported status metrics, metric by metric.

The rule (which metrics, the 5% threshold) lives with the feed's health
(``exports.health.compare_metrics``, the metrics declared in ``telemetry/feeds.py``), so the
table on the page and the feed's ``failing`` state never disagree.
"""

from __future__ import annotations

from exports import registry
from exports.health import DRIFT_THRESHOLD_PERCENT, MetricDelta, compare_metrics
from exports.models import Feed

__all__ = ["DRIFT_THRESHOLD_PERCENT", "MetricDelta", "funnel_comparison"]


def funnel_comparison(funnel: dict, card) -> list[MetricDelta]:
    """One row per metric; exported values are None when the status has no such metric."""
    definition = registry.feed(Feed.QUICK_ORDER_TELEMETRY)
    return compare_metrics(funnel, card.metrics, definition.compared_metrics)
