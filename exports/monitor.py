"""``monitor_exports``: look at every feed with a card, record each flip, alert once per flip.

Exit codes (SPEC §8): 0 when every feed is never, running, fresh or late; 1 when any is
stale, failing or stuck; 2 when the database cannot be read (no server, a timeout, tables
missing). Run it every 15 minutes (``.github/workflows/export-monitor.yml`` or cron); two
monitors at once record and alert each flip once (``exports.health.health_record``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError
from django.utils import timezone

from exports import registry
from exports.health import Check, format_moment, health_check, recent_runs

EXIT_OK = 0
EXIT_BAD = 1
EXIT_UNREADABLE = 2


@dataclass
class MonitorReport:
    checks: list[Check] = field(default_factory=list)
    error: str | None = None

    @property
    def bad(self) -> list[Check]:
        return [check for check in self.checks if check.health.bad]

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return EXIT_UNREADABLE
        return EXIT_BAD if self.bad else EXIT_OK


def describe(check: Check) -> str:
    """One line per feed: state, since when, why, and how far behind."""
    health = check.health
    line = f"{health.feed}: {health.state}"
    if health.since:
        line += f" since {format_moment(health.since)}"
    line += f" ({health.reason})"
    if health.behind.count is not None:
        line += f"; behind: {health.behind.text}"
    return line


def monitor_exports_run(*, now: datetime | None = None) -> MonitorReport:
    now = now or timezone.now()
    report = MonitorReport()
    # Every feed (SPEC §8): those with a card in page order, then those run by hand only.
    cards = registry.card_feeds()
    shown = {d.name for d in cards}
    definitions = cards + [d for d in registry.feeds() if d.name not in shown]
    try:
        runs = recent_runs([d.name for d in definitions])
        for definition in definitions:
            report.checks.append(health_check(definition, runs=runs[definition.name], now=now))
    except DatabaseError as exc:
        # A monitor that cannot look must never look like one that found nothing wrong.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        report.error = f"cannot read the database: {first}"
    return report
