"""Exports that give way to the database's other clients.

An exporter left alone uses what the database has: on two cores the 1 000 000-row follow-up
export keeps PostgreSQL busy on both (two read-ahead workers building NDJSON) and took
16 storefront clients' capture p99 from 60 ms to 180 ms while it ran. A batch job should not
do that to the requests a storefront is waiting on.

So, like gh-ost's ``--nice-ratio`` and pt-archiver's ``--sleep-coef``, an exporter sleeps
``EXPORT_NICE_RATIO`` seconds for every second of database work, but only while other clients
are working: it asks ``pg_stat_activity`` before each page (each slice while giving way)
whether another client session of this database is in a statement or a transaction, and
gives way until ``HOLD_SECONDS`` have passed without seeing one (a web process between two
requests is idle, so one look alone misses most of them). Alone, it runs at full speed; an
idle connection (a ``psql``, a worker waiting for tasks) does not slow it down, and neither
does another exporter (each names its session ``EXPORTER_APPLICATION_NAME`` while it runs, so
two exports at once do not each wait for the other). While giving
way it also stops reading ahead and builds each page in slices of ``SLICE_ROWS`` rows, so
its work comes in short bursts that a request seldom waits behind, instead of one 10 000-row
page at a time on both cores. The batches a sink receives, and the checkpoints, are the same
either way.

A ratio of 4 (the default) lets an export take about a fifth of the time of the database
while capture is busy: beside 16 capture clients that keep two cores busy, the 1 000 000
rows take about 137 s instead of 7 s, and capture's p99 stays within 1.2x of its p99 idle
(docs/benchmarks.md, row 8). 0 turns giving way off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import Error, connection

from smplat.watermark import READER_APPLICATION_NAME

logger = logging.getLogger(__name__)

# The application_name of an exporter's own session while it runs (``exporter_session``).
EXPORTER_APPLICATION_NAME = "smplat-exporter"

# Rows of one slice of a page while giving way: a few milliseconds of the database's work.
SLICE_ROWS = 1000

# Giving way lasts this long after other clients were last seen at work.
HOLD_SECONDS = 2.0

# Other client sessions in a statement, or in a transaction that ran one within the last
# second (a request between two statements; a transaction left open in a psql for minutes is
# not work that needs the CPU). Exporters and their read-ahead workers are not others;
# pg_stat_clear_snapshot() makes the view current when a caller's transaction would
# otherwise keep showing its first look.
_OTHERS_AT_WORK = """
SELECT pg_stat_clear_snapshot(), count(*) FROM pg_stat_activity
WHERE datname = current_database()
  AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
  AND application_name NOT IN (%s, %s)
  AND (state = 'active'
       OR (state LIKE 'idle in transaction%%'
           AND state_change > clock_timestamp() - interval '1 second'))
"""


@dataclass
class Pacer:
    """Sleeps ``ratio`` times the database work it is told of while ``busy()`` last said
    other clients were at work; what it did is in ``slept`` and ``probes``/``seen``."""

    ratio: float
    slept: float = 0.0
    probes: int = 0
    seen: int = 0  # probes that found other clients at work
    _last_seen: float = field(default=float("-inf"), repr=False)
    _busy: bool = field(default=False, repr=False)

    def busy(self) -> bool:
        """Whether other client sessions were at work within ``HOLD_SECONDS`` (one query of
        ``pg_stat_activity``)."""
        if self.ratio <= 0:
            return False
        with connection.cursor() as cursor:
            cursor.execute(_OTHERS_AT_WORK, [READER_APPLICATION_NAME, EXPORTER_APPLICATION_NAME])
            _, others = cursor.fetchone()
        now = time.monotonic()
        self.probes += 1
        if others:
            self.seen += 1
            self._last_seen = now
        self._busy = now - self._last_seen <= HOLD_SECONDS
        return self._busy

    def pause(self, work_seconds: float) -> None:
        """After ``work_seconds`` of database work: sleep its share if giving way."""
        if self._busy and work_seconds > 0:
            pause = work_seconds * self.ratio
            time.sleep(pause)
            self.slept += pause

    @contextmanager
    def timed(self) -> Iterator[None]:
        """``with pacer.timed(): <database work>``: then ``pause`` for it."""
        began = time.monotonic()
        yield
        self.pause(time.monotonic() - began)

    def summary(self) -> str:
        """For a run's log: how long it gave way, empty when it never did."""
        if not self.slept:
            return ""
        return (
            f"gave way to other database clients for {self.slept:.1f} s"
            f" (EXPORT_NICE_RATIO={self.ratio:g}; seen at work at {self.seen} of"
            f" {self.probes} looks)"
        )


@contextmanager
def exporter_session() -> Iterator[None]:
    """Name this process's database session an exporter's while the block runs, so other
    exporters do not give way to it (the commit watermark still counts it: it only looks past
    the read-ahead workers, which never write). The previous name comes back after."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('application_name')")
        (previous,) = cursor.fetchone()
        cursor.execute(
            "SELECT set_config('application_name', %s, false)", [EXPORTER_APPLICATION_NAME]
        )
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('application_name', %s, false)", [previous])
        except Error:
            # The run broke the session's transaction or the session itself; the run's own
            # error is the one to report. Closed, so no later query carries the name.
            logger.debug("application_name not restored; closing the session", exc_info=True)
            connection.close()
