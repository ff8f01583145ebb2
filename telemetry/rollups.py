"""Incremental, idempotent refresh of the three chat telemetry rollup tables.

A refresh finds the hour buckets that received rows since the previous refresh (by
``ingested_at``, so a late row with an old ``created_at`` still marks its old bucket) and
recomputes each of those buckets from scratch. Recomputing whole buckets is what makes it
idempotent: running it twice, or over an overlapping period, writes the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max

from telemetry.models import ChatTelemetryRollup

# Buckets touched this long before the previous refresh are looked at again: a row whose
# transaction committed after that refresh read past it is still counted.
REFRESH_OVERLAP = timedelta(hours=1)

_TOUCHED = """
    WITH touched AS (
        SELECT DISTINCT date_trunc('hour', created_at) AS bucket
        FROM chat_messages
        WHERE %(since)s::timestamptz IS NULL OR ingested_at >= %(since)s
    )
"""

# Static SQL assembled from constants above, never from input.
_STATEMENTS = {
    "chat_telemetry_rollups": _TOUCHED  # noqa: S608
    + """
        INSERT INTO chat_telemetry_rollups AS r (
            bucket_start, conversations, messages, assistant_messages, failed_messages,
            avg_latency_ms, input_tokens, output_tokens, refreshed_at)
        SELECT t.bucket, COUNT(DISTINCT m.conversation_id), COUNT(*),
               COUNT(*) FILTER (WHERE m.role = 'assistant'),
               COUNT(*) FILTER (WHERE NOT m.succeeded),
               AVG(m.latency_ms) FILTER (WHERE m.role = 'assistant'),
               COALESCE(SUM(m.input_tokens), 0), COALESCE(SUM(m.output_tokens), 0), now()
        FROM touched t
        JOIN chat_messages m ON m.created_at >= t.bucket AND m.created_at < t.bucket + interval '1 hour'
        GROUP BY t.bucket
        ON CONFLICT (bucket_start) DO UPDATE SET
            conversations = EXCLUDED.conversations, messages = EXCLUDED.messages,
            assistant_messages = EXCLUDED.assistant_messages,
            failed_messages = EXCLUDED.failed_messages, avg_latency_ms = EXCLUDED.avg_latency_ms,
            input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
            refreshed_at = EXCLUDED.refreshed_at
    """,
    "chat_telemetry_domain_rollups": _TOUCHED  # noqa: S608
    + """
        INSERT INTO chat_telemetry_domain_rollups AS r (
            bucket_start, domain, conversations, messages, failed_messages, avg_latency_ms,
            refreshed_at)
        SELECT t.bucket, m.domain, COUNT(DISTINCT m.conversation_id), COUNT(*),
               COUNT(*) FILTER (WHERE NOT m.succeeded),
               AVG(m.latency_ms) FILTER (WHERE m.role = 'assistant'), now()
        FROM touched t
        JOIN chat_messages m ON m.created_at >= t.bucket AND m.created_at < t.bucket + interval '1 hour'
        GROUP BY t.bucket, m.domain
        ON CONFLICT (bucket_start, domain) DO UPDATE SET
            conversations = EXCLUDED.conversations, messages = EXCLUDED.messages,
            failed_messages = EXCLUDED.failed_messages, avg_latency_ms = EXCLUDED.avg_latency_ms,
            refreshed_at = EXCLUDED.refreshed_at
    """,
    "chat_telemetry_model_rollups": _TOUCHED  # noqa: S608
    + """
        INSERT INTO chat_telemetry_model_rollups AS r (
            bucket_start, model, messages, failed_messages, avg_latency_ms, input_tokens,
            output_tokens, refreshed_at)
        SELECT t.bucket, m.model, COUNT(*), COUNT(*) FILTER (WHERE NOT m.succeeded),
               AVG(m.latency_ms), COALESCE(SUM(m.input_tokens), 0),
               COALESCE(SUM(m.output_tokens), 0), now()
        FROM touched t
        JOIN chat_messages m ON m.created_at >= t.bucket AND m.created_at < t.bucket + interval '1 hour'
        WHERE m.role = 'assistant' AND m.model IS NOT NULL
        GROUP BY t.bucket, m.model
        ON CONFLICT (bucket_start, model) DO UPDATE SET
            messages = EXCLUDED.messages, failed_messages = EXCLUDED.failed_messages,
            avg_latency_ms = EXCLUDED.avg_latency_ms, input_tokens = EXCLUDED.input_tokens,
            output_tokens = EXCLUDED.output_tokens, refreshed_at = EXCLUDED.refreshed_at
    """,
}


@dataclass(frozen=True)
class RollupRefreshResult:
    since: datetime | None
    buckets_written: dict[str, int]


def rollups_refresh(*, full: bool = False) -> RollupRefreshResult:
    """Recompute every hour bucket that received chat messages since the last refresh.

    ``full=True`` recomputes every bucket (after a backfill or a schema change).
    """
    since = None
    if not full:
        last = ChatTelemetryRollup.objects.aggregate(last=Max("refreshed_at"))["last"]
        since = last - REFRESH_OVERLAP if last else None
    written = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for table, statement in _STATEMENTS.items():
            cursor.execute(statement, {"since": since})
            written[table] = cursor.rowcount
    return RollupRefreshResult(since=since, buckets_written=written)
