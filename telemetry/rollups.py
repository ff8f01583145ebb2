"""Incremental, idempotent refresh of the three chat telemetry rollup tables.

A refresh finds the hour buckets that received rows since the previous refresh (by
``ingested_at``, so a late row with an old ``created_at`` still marks its old bucket) and
recomputes each of those buckets from scratch. Recomputing whole buckets is what makes it
idempotent: running it twice, or over an overlapping period, writes the same numbers.

The whole refresh is ONE SQL statement (data-modifying CTEs): the three tables are computed
from the same snapshot of ``chat_messages``, so they always agree with each other, even while
messages keep arriving. Within a recomputed bucket, a domain or model row that no longer has
messages is deleted; ``full=True`` also deletes buckets that have no messages at all.
Refreshes are serialized by a transaction-level advisory lock: a second one waits for the
first and then sees its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

ROLLUP_TABLES = (
    "chat_telemetry_rollups",
    "chat_telemetry_domain_rollups",
    "chat_telemetry_model_rollups",
)

# Buckets touched this long before the previous refresh are looked at again: a row whose
# transaction committed after that refresh read past it is still counted, and so is a row
# stamped by an application server whose clock is somewhat behind the database's.
REFRESH_OVERLAP = timedelta(hours=1)

# pg_advisory_xact_lock key: "rollups" in ASCII, so it is recognizable in pg_locks.
_LOCK_KEY = 0x726F6C6C757073

# Static SQL, parameters bound by the driver; nothing in it comes from input.
_REFRESH = """
WITH watermark AS (
    SELECT CASE WHEN %(full)s THEN NULL
                ELSE MAX(refreshed_at) - %(overlap)s::interval END AS since
    FROM chat_telemetry_rollups
),
touched AS (
    SELECT DISTINCT date_trunc('hour', m.created_at) AS bucket
    FROM chat_messages m, watermark w
    WHERE w.since IS NULL OR m.ingested_at >= w.since
),
source AS (
    SELECT t.bucket, m.*
    FROM touched t
    JOIN chat_messages m
      ON m.created_at >= t.bucket AND m.created_at < t.bucket + interval '1 hour'
),
overall AS (
    SELECT bucket, COUNT(DISTINCT conversation_id) AS conversations, COUNT(*) AS messages,
           COUNT(*) FILTER (WHERE role = 'assistant') AS assistant_messages,
           COUNT(*) FILTER (WHERE NOT succeeded) AS failed_messages,
           AVG(latency_ms) FILTER (WHERE role = 'assistant') AS avg_latency_ms,
           COALESCE(SUM(input_tokens), 0) AS input_tokens,
           COALESCE(SUM(output_tokens), 0) AS output_tokens
    FROM source GROUP BY bucket
),
by_domain AS (
    SELECT bucket, domain, COUNT(DISTINCT conversation_id) AS conversations,
           COUNT(*) AS messages, COUNT(*) FILTER (WHERE NOT succeeded) AS failed_messages,
           AVG(latency_ms) FILTER (WHERE role = 'assistant') AS avg_latency_ms
    FROM source GROUP BY bucket, domain
),
by_model AS (
    SELECT bucket, model, COUNT(*) AS messages,
           COUNT(*) FILTER (WHERE NOT succeeded) AS failed_messages,
           AVG(latency_ms) AS avg_latency_ms,
           COALESCE(SUM(input_tokens), 0) AS input_tokens,
           COALESCE(SUM(output_tokens), 0) AS output_tokens
    FROM source WHERE role = 'assistant' AND model IS NOT NULL GROUP BY bucket, model
),
write_overall AS (
    INSERT INTO chat_telemetry_rollups AS r (
        bucket_start, conversations, messages, assistant_messages, failed_messages,
        avg_latency_ms, input_tokens, output_tokens, refreshed_at)
    SELECT bucket, conversations, messages, assistant_messages, failed_messages,
           avg_latency_ms, input_tokens, output_tokens, now()
    FROM overall
    ON CONFLICT (bucket_start) DO UPDATE SET
        conversations = EXCLUDED.conversations, messages = EXCLUDED.messages,
        assistant_messages = EXCLUDED.assistant_messages,
        failed_messages = EXCLUDED.failed_messages, avg_latency_ms = EXCLUDED.avg_latency_ms,
        input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
        refreshed_at = EXCLUDED.refreshed_at
    RETURNING 1
),
write_domain AS (
    INSERT INTO chat_telemetry_domain_rollups AS r (
        bucket_start, domain, conversations, messages, failed_messages, avg_latency_ms,
        refreshed_at)
    SELECT bucket, domain, conversations, messages, failed_messages, avg_latency_ms, now()
    FROM by_domain
    ON CONFLICT (bucket_start, domain) DO UPDATE SET
        conversations = EXCLUDED.conversations, messages = EXCLUDED.messages,
        failed_messages = EXCLUDED.failed_messages, avg_latency_ms = EXCLUDED.avg_latency_ms,
        refreshed_at = EXCLUDED.refreshed_at
    RETURNING 1
),
write_model AS (
    INSERT INTO chat_telemetry_model_rollups AS r (
        bucket_start, model, messages, failed_messages, avg_latency_ms, input_tokens,
        output_tokens, refreshed_at)
    SELECT bucket, model, messages, failed_messages, avg_latency_ms, input_tokens,
           output_tokens, now()
    FROM by_model
    ON CONFLICT (bucket_start, model) DO UPDATE SET
        messages = EXCLUDED.messages, failed_messages = EXCLUDED.failed_messages,
        avg_latency_ms = EXCLUDED.avg_latency_ms, input_tokens = EXCLUDED.input_tokens,
        output_tokens = EXCLUDED.output_tokens, refreshed_at = EXCLUDED.refreshed_at
    RETURNING 1
),
-- Rows of a recomputed bucket (or, on a full refresh, of any bucket) that the source no
-- longer produces: a domain whose messages were deleted or moved, a bucket purged.
drop_overall AS (
    DELETE FROM chat_telemetry_rollups r
    WHERE (%(full)s OR r.bucket_start IN (SELECT bucket FROM touched))
      AND NOT EXISTS (SELECT 1 FROM overall o WHERE o.bucket = r.bucket_start)
    RETURNING 1
),
drop_domain AS (
    DELETE FROM chat_telemetry_domain_rollups r
    WHERE (%(full)s OR r.bucket_start IN (SELECT bucket FROM touched))
      AND NOT EXISTS (
          SELECT 1 FROM by_domain d WHERE d.bucket = r.bucket_start AND d.domain = r.domain)
    RETURNING 1
),
drop_model AS (
    DELETE FROM chat_telemetry_model_rollups r
    WHERE (%(full)s OR r.bucket_start IN (SELECT bucket FROM touched))
      AND NOT EXISTS (
          SELECT 1 FROM by_model b WHERE b.bucket = r.bucket_start AND b.model = r.model)
    RETURNING 1
)
SELECT (SELECT since FROM watermark),
       (SELECT COUNT(*) FROM touched),
       (SELECT COUNT(*) FROM write_overall), (SELECT COUNT(*) FROM write_domain),
       (SELECT COUNT(*) FROM write_model),
       (SELECT COUNT(*) FROM drop_overall), (SELECT COUNT(*) FROM drop_domain),
       (SELECT COUNT(*) FROM drop_model)
"""


@dataclass(frozen=True)
class RollupRefreshResult:
    """What a refresh did: from when it looked (None: everything) and rows per table."""

    since: datetime | None
    buckets_recomputed: int
    buckets_written: dict[str, int]
    rows_deleted: dict[str, int]


def rollups_refresh(*, full: bool = False) -> RollupRefreshResult:
    """Recompute every hour bucket that received chat messages since the last refresh.

    ``full=True`` recomputes every bucket and drops rollup rows without messages (after a
    backfill, a purge or a change of the rollup definitions).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute(_REFRESH, {"full": full, "overlap": REFRESH_OVERLAP})
        since, buckets, *counts = cursor.fetchone()
    return RollupRefreshResult(
        since=since,
        buckets_recomputed=buckets,
        buckets_written=dict(zip(ROLLUP_TABLES, counts[:3], strict=True)),
        rows_deleted=dict(zip(ROLLUP_TABLES, counts[3:], strict=True)),
    )
