"""Webhook delivery attempts of a run: recorded as they happen (the run page shows each
batch's tries), and pruned so that only each feed's newest runs keep theirs."""

from __future__ import annotations

from django.conf import settings

from exports.models import DeliveryAttempt, ExportRun


def attempt_recorder(run: ExportRun):
    """The WebhookSink's ``on_attempt``: one DeliveryAttempt row per try, written at once so
    a run that dies midway still shows what it tried."""

    def record(*, batch: int, attempt: int, status, error: str, seconds: float, webhook_id: str):
        DeliveryAttempt.objects.create(
            run=run,
            batch=batch,
            attempt=attempt,
            status=status,
            error=error[:2000],
            latency_ms=round(seconds * 1000),
            webhook_id=webhook_id,
        )

    return record


def attempts_prune(*, feed: str, keep_runs: int | None = None) -> int:
    """Delete the attempts of ``feed``'s runs older than its newest ``keep_runs``; returns how
    many rows went."""
    keep_runs = settings.EXPORT_ATTEMPT_RUNS_KEPT if keep_runs is None else keep_runs
    kept = ExportRun.objects.filter(feed=feed).order_by("-created_at", "-id")[:keep_runs]
    deleted, _ = (
        DeliveryAttempt.objects.filter(run__feed=feed)
        .exclude(run_id__in=kept.values("id"))
        .delete()
    )
    return deleted
