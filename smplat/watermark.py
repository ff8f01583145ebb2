"""Up to where rows ordered by (timestamp, id) are final: the commit watermark.

A row exporter, and every API page that hands out a cursor, reads rows in (timestamp, id)
order and remembers the last position. A row whose transaction is still open is invisible;
if it commits later with a timestamp below a position already handed out, it would be
skipped for good. A fixed delay ("read up to now minus 5 s") only guesses how long writers
keep transactions open.

The watermark asks PostgreSQL instead. The timestamps that order the exported rows are
assigned by the database inside the writing transaction (``database_now()``: its
``statement_timestamp()``, never before the transaction's start), so no open transaction can
still write a row timestamped before its own ``xact_start``. Reading strictly below

    the oldest ``xact_start`` of the other client sessions of this database (now, if none)

therefore never passes a row that commits later: it is read by a later run. Rows committed
before the run started are read by it unless an older transaction is still open, and then
only as long as that transaction stays open ("12 newer rows wait for a transaction open since
10:02:11"): the run reports what it held back and why.

Where PostgreSQL does not show other sessions' ``xact_start`` (a role without
``pg_read_all_stats`` sees ``<insufficient privilege>`` for other users' sessions) or a
prepared (two-phase) transaction is pending, the watermark also stays
``EXPORT_SAFETY_LAG_SECONDS`` behind the database's clock: the old fixed lag, as a fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

# A transaction's start time is read from the clock a moment before PostgreSQL publishes it
# in pg_stat_activity (a few microseconds of code in StartTransaction). The clock is read
# before the sessions are looked at, so a transaction missing from the list started after
# that reading, less this moment; staying this far behind the clock covers it.
PUBLISH_MARGIN = timedelta(milliseconds=1)

# Connections that read and never write: the exporters' own read-ahead workers.
READER_APPLICATION_NAME = "smplat-export-reader"

_SQL = """
WITH open AS (
    SELECT pid, xact_start, application_name
    FROM pg_stat_activity
    WHERE datname = current_database()
      AND pid <> pg_backend_pid()
      AND backend_type = 'client backend'
      AND xact_start IS NOT NULL
      AND application_name <> %(reader)s
    ORDER BY xact_start
    LIMIT 1
)
SELECT (SELECT xact_start FROM open),
       (SELECT pid FROM open),
       (SELECT application_name FROM open),
       EXISTS (
           SELECT 1 FROM pg_stat_activity
           WHERE datname = current_database()
             AND pid <> pg_backend_pid()
             AND query = '<insufficient privilege>'  -- backend_type is hidden too
       ),
       EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE database = current_database())
"""


@dataclass(frozen=True)
class Watermark:
    """Rows timestamped strictly before ``at`` are final: none can still commit there."""

    at: datetime
    now: datetime  # the database's clock when the watermark was taken
    # The oldest open transaction of another session holding the watermark back, if any.
    held_since: datetime | None = None
    held_by: str = ""  # "pid 4242 (psql)"
    # Why the fixed lag applied, if it did.
    fallback: str = ""

    def reason(self) -> str:
        """Why rows after the watermark wait, for a run summary (empty when none wait)."""
        if self.fallback:
            return f"the fixed safety lag applies ({self.fallback})"
        if self.held_since is not None:
            return f"a transaction open since {self.held_since:%H:%M:%S} UTC ({self.held_by})"
        return ""


def commit_watermark(lag_seconds: float, *, using=None) -> Watermark:
    """The current watermark of this database (``using``: a DB-API connection, default
    Django's), with ``lag_seconds`` as the fallback where commit state cannot be seen."""
    with (using or connection).cursor() as cursor:
        # The clock first, in a statement of its own (see PUBLISH_MARGIN); inside a
        # transaction PostgreSQL would show the sessions as they were at its first look.
        cursor.execute("SELECT clock_timestamp(), pg_stat_clear_snapshot()")
        now, _ = cursor.fetchone()
        cursor.execute(_SQL, {"reader": READER_APPLICATION_NAME})
        oldest, pid, application, blind, prepared = cursor.fetchone()
    at = now - PUBLISH_MARGIN
    held_since = held_by = None
    if oldest is not None and oldest < at:
        at, held_since = oldest, oldest
        held_by = f"pid {pid}" + (f" ({application})" if application else "")
    fallback = ""
    if blind:
        fallback = "other sessions' transactions are not visible to this database role"
    elif prepared:
        fallback = "a prepared transaction is pending"
    if fallback:
        at = min(at, now - timedelta(seconds=lag_seconds))
    return Watermark(
        at=at, now=now, held_since=held_since, held_by=held_by or "", fallback=fallback
    )


def committed_before() -> datetime:
    """The watermark's time with the configured fallback lag: what API pages handing out
    cursors read below, so a client walking ``nextCursor`` is as exact as the exporters."""
    from django.conf import settings

    return commit_watermark(settings.EXPORT_SAFETY_LAG_SECONDS).at


def database_now() -> datetime:
    """The database's clock at this statement (``statement_timestamp()``: never before the
    transaction's start, and later for each statement of a long transaction). Writers of
    exported rows timestamp them with it inside the writing transaction (see the module
    docstring)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        (now,) = cursor.fetchone()
    return now
