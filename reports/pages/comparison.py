"""The local quick-order funnel beside the exported status metrics, metric by metric."""

from __future__ import annotations

from dataclasses import dataclass

DRIFT_THRESHOLD_PERCENT = 5.0
METRICS = [
    ("startCount", "Starts"),
    ("abortCount", "Aborts"),
    ("completeCount", "Completes"),
    ("completionRate", "Completion rate (%)"),
]


@dataclass(frozen=True)
class MetricDelta:
    key: str
    label: str
    local: float | int | None
    exported: float | int | None

    @property
    def delta(self) -> float | None:
        if self.local is None or self.exported is None:
            return None
        return round(self.local - self.exported, 1)

    @property
    def drift_percent(self) -> float | None:
        """|local - exported| relative to the exported value, in percent."""
        if self.delta is None:
            return None
        if self.exported == 0:
            return 0.0 if self.local == 0 else 100.0
        return round(abs(self.delta) / abs(self.exported) * 100, 1)

    @property
    def drifted(self) -> bool:
        return self.drift_percent is not None and self.drift_percent > DRIFT_THRESHOLD_PERCENT


def funnel_comparison(funnel: dict, card) -> list[MetricDelta]:
    """One row per metric; exported values are None when the status has no such metric."""
    exported = card.metrics or {}
    rows = []
    for key, label in METRICS:
        value = exported.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            value = None
        rows.append(MetricDelta(key=key, label=label, local=funnel.get(key), exported=value))
    return rows
