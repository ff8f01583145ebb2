"""The one definition of each telemetry metric that two places show.

The exported status payloads (``metrics`` of SPEC §5, counted line by line over the NDJSON
window a snapshot uploads) and the site's own views of the same windows (the automation
history's ``guardrailWorkflow`` summary, the quick-order funnel on /admin/reports/) count
with these classes and functions, so the API and the status payload agree on one window.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

QUICK_ORDER_METRICS = ("startCount", "abortCount", "completeCount", "completionRate")
GUARDRAIL_WORKFLOW_METRICS = ("actionCounts", "attachmentTotals", "providerActivity")
# Every ``attachment.*`` workflow action is an upload (the runbook's "attachment totals":
# attachment.upload, attachment.replace, ...).
ATTACHMENT_ACTION_PREFIX = "attachment."
TOP_PROVIDERS = 10


def completion_rate(starts: int, completes: int) -> float | None:
    """Completes per start, in percent with one decimal; None without starts.

    Counted in exact decimals and rounded half away from zero, as the warehouse's
    ``round(100.0 * completes / starts, 1)`` does (Snowflake, PostgreSQL, DuckDB): 49 of 400
    is 12.3 there, where Python's float ``round`` gives 12.2.
    """
    if not starts:
        return None
    rate = Decimal(100 * completes) / Decimal(starts)
    return float(rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


class QuickOrderMetrics:
    """``startCount``, ``abortCount``, ``completeCount``, ``completionRate``."""

    def __init__(self) -> None:
        self.names: Counter[str] = Counter()
        self.seen = 0

    def add(self, event: dict[str, Any]) -> None:
        self.seen += 1
        self.names[str(event.get("eventName"))] += 1

    def result(self) -> dict[str, Any]:
        if not self.seen:  # nothing counted: unknown, not zero
            return dict.fromkeys(QUICK_ORDER_METRICS, None)
        starts = self.names["quick_order.start"]
        completes = self.names["quick_order.complete"]
        return {
            "startCount": starts,
            "abortCount": self.names["quick_order.abort"],
            "completeCount": completes,
            "completionRate": completion_rate(starts, completes),
        }


def _size_bytes(metadata: Any) -> int:
    """``metadata.sizeBytes`` when the client sent a number (never a bool or text)."""
    size = metadata.get("sizeBytes") if isinstance(metadata, dict) else None
    if isinstance(size, bool) or not isinstance(size, int | float):
        return 0
    return int(size)


class GuardrailWorkflowMetrics:
    """``actionCounts`` (events per workflow action), ``attachmentTotals`` (``uploads``: every
    ``attachment.*`` action, ``bytes``: their ``metadata.sizeBytes``) and
    ``providerActivity`` (the ten most active providers: ``providerId``, ``providerName``
    (the newest name sent), ``events``, ``lastActionAt``)."""

    def __init__(self) -> None:
        self.actions: Counter[str] = Counter()
        self.attachments = 0
        self.attachment_bytes = 0
        self.providers: dict[str, dict[str, Any]] = {}
        self.seen = 0

    def add(self, event: dict[str, Any]) -> None:
        self.seen += 1
        action = str(event.get("workflowAction") or "unknown")
        self.actions[action] += 1
        if action.startswith(ATTACHMENT_ACTION_PREFIX):
            self.attachments += 1
            self.attachment_bytes += _size_bytes(event.get("metadata"))
        provider_id = event.get("providerId")
        if provider_id:
            entry = self.providers.setdefault(
                provider_id,
                {
                    "providerId": provider_id,
                    "providerName": None,
                    "events": 0,
                    "lastActionAt": None,
                },
            )
            entry["events"] += 1
            entry["providerName"] = event.get("providerName") or entry["providerName"]
            recorded = event.get("recordedAt")
            # Timestamps are UTC ISO-8601 with microseconds: text order is time order.
            if isinstance(recorded, str) and (
                entry["lastActionAt"] is None or recorded > entry["lastActionAt"]
            ):
                entry["lastActionAt"] = recorded

    def result(self, *, empty_as_null: bool = True) -> dict[str, Any]:
        """The three metrics; on an empty window None each (the status payload: unknown),
        or empty figures with ``empty_as_null=False`` (the API: nothing happened)."""
        if not self.seen and empty_as_null:
            return dict.fromkeys(GUARDRAIL_WORKFLOW_METRICS, None)
        top = sorted(self.providers.values(), key=lambda p: (-p["events"], p["providerId"]))
        return {
            "actionCounts": dict(sorted(self.actions.items())),
            "attachmentTotals": {"uploads": self.attachments, "bytes": self.attachment_bytes},
            "providerActivity": top[:TOP_PROVIDERS],
        }
