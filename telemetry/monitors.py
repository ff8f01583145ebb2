"""Freshness monitors of the chat telemetry rollups and the GDPR audit log.

Like dbt's source freshness, a table is judged by the age of its newest row (the newest
rollup bucket, the newest audit entry) against two thresholds: older than ``warn_after`` is a
warning, older than ``error_after`` is stale, and an empty table is missing. A monitor run
that finds anything stale or missing, or that cannot read the database at all, has failed:
it sends ONE Slack message for the whole run (naming every table at fault and since when)
and its command exits non-zero. The dashboard shows the same judgement with the same
thresholds, so the page and the nightly job never disagree.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, ProgrammingError, connection
from django.utils import timezone

from exports.notifications import SlackOutcome, slack_post
from telemetry.rollups import ROLLUP_TABLES

logger = logging.getLogger(__name__)

# (table, timestamp column) of what each monitor judges by its newest row.
ROLLUP_FRESHNESS_COLUMNS = tuple((table, "bucket_start") for table in ROLLUP_TABLES)
GDPR_AUDIT_FRESHNESS_COLUMNS = (("gdpr_audit_log", "created_at"),)

# Exit codes of the monitor commands.
EXIT_OK = 0
EXIT_STALE = 1
EXIT_UNREACHABLE = 2


class Freshness(enum.StrEnum):
    FRESH = "fresh"
    WARN = "warn"
    STALE = "stale"
    MISSING = "missing"

    @property
    def failing(self) -> bool:
        return self in (Freshness.STALE, Freshness.MISSING)


@dataclass(frozen=True)
class FreshnessThresholds:
    warn_after: timedelta
    error_after: timedelta

    @classmethod
    def for_rollups(cls) -> FreshnessThresholds:
        return cls(
            warn_after=timedelta(hours=settings.TELEMETRY_ROLLUPS_WARN_AFTER_HOURS),
            error_after=timedelta(hours=settings.TELEMETRY_ROLLUPS_ERROR_AFTER_HOURS),
        )

    @classmethod
    def for_gdpr_audit(cls) -> FreshnessThresholds:
        return cls(
            warn_after=timedelta(hours=settings.GDPR_AUDIT_WARN_AFTER_HOURS),
            error_after=timedelta(hours=settings.GDPR_AUDIT_ERROR_AFTER_HOURS),
        )

    def judge(self, newest: datetime | None, *, now: datetime) -> Freshness:
        if newest is None:
            return Freshness.MISSING
        age = now - newest
        if age > self.error_after:
            return Freshness.STALE
        if age > self.warn_after:
            return Freshness.WARN
        return Freshness.FRESH


@dataclass(frozen=True)
class TableFreshness:
    """How fresh one table is: its newest row's timestamp and the verdict on it."""

    table: str
    newest: datetime | None
    status: Freshness
    age: timedelta | None
    thresholds: FreshnessThresholds

    @property
    def newest_text(self) -> str:
        return format_moment(self.newest) if self.newest else "never"

    @property
    def age_text(self) -> str:
        return format_duration(self.age) if self.age is not None else "no rows"

    @property
    def thresholds_text(self) -> str:
        return (
            f"warn after {format_duration(self.thresholds.warn_after)}, "
            f"error after {format_duration(self.thresholds.error_after)}"
        )

    def describe(self) -> str:
        """One line for a terminal or Slack: what, since when, and against which threshold."""
        if self.newest is None:
            return f"{self.table}: missing (the table has no rows)"
        newest = f"newest row {format_moment(self.newest)}, {format_duration(self.age)} ago"
        if self.status is Freshness.STALE:
            return (
                f"{self.table}: stale since {format_moment(self.newest)} "
                f"({newest}; error after {format_duration(self.thresholds.error_after)})"
            )
        if self.status is Freshness.WARN:
            return (
                f"{self.table}: late ({newest}; "
                f"warn after {format_duration(self.thresholds.warn_after)})"
            )
        return f"{self.table}: fresh ({newest})"


@dataclass
class MonitorReport:
    """The result of one monitor run; ``exit_code`` is what its command exits with."""

    monitor: str
    checks: list[TableFreshness] = field(default_factory=list)
    error: str | None = None
    error_exit_code: int = EXIT_UNREACHABLE
    alert: SlackOutcome | None = None

    @property
    def failing(self) -> list[TableFreshness]:
        return [check for check in self.checks if check.status.failing]

    @property
    def warnings(self) -> list[TableFreshness]:
        return [check for check in self.checks if check.status is Freshness.WARN]

    @property
    def failed(self) -> bool:
        return self.error is not None or bool(self.failing)

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return self.error_exit_code
        return EXIT_STALE if self.failing else EXIT_OK


def format_moment(moment: datetime) -> str:
    """``2026-11-18 08:20 UTC``: for people (cursors use ``smplat.cursors.format_timestamp``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_duration(duration: timedelta | None) -> str:
    """``2d 3h``, ``5h 10m``, ``12m``: enough to read at a glance, never a float."""
    if duration is None:
        return "unknown"
    minutes = max(int(duration.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def tables_newest(tables: tuple[tuple[str, str], ...]) -> dict[str, datetime | None]:
    """The newest timestamp of each (table, column), in one query (each MAX uses an index)."""
    # Table and column names come from the constants above, never from input.
    sql = " UNION ALL ".join(
        f"SELECT %s, MAX({column}) FROM {table}"  # noqa: S608
        for table, column in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [table for table, _ in tables])
        return dict(cursor.fetchall())


def tables_freshness(
    tables: tuple[tuple[str, str], ...],
    *,
    thresholds: FreshnessThresholds,
    now: datetime | None = None,
) -> list[TableFreshness]:
    """Judge each table's newest row against ``thresholds``; raises DatabaseError."""
    now = now or timezone.now()
    newest = tables_newest(tables)
    return [
        table_freshness(table, newest[table], thresholds=thresholds, now=now) for table, _ in tables
    ]


def table_freshness(
    table: str, newest: datetime | None, *, thresholds: FreshnessThresholds, now: datetime
) -> TableFreshness:
    return TableFreshness(
        table=table,
        newest=newest,
        status=thresholds.judge(newest, now=now),
        age=now - newest if newest else None,
        thresholds=thresholds,
    )


def rollups_freshness(*, now: datetime | None = None) -> list[TableFreshness]:
    return tables_freshness(
        ROLLUP_FRESHNESS_COLUMNS, thresholds=FreshnessThresholds.for_rollups(), now=now
    )


def gdpr_audit_freshness(*, now: datetime | None = None) -> TableFreshness:
    (check,) = tables_freshness(
        GDPR_AUDIT_FRESHNESS_COLUMNS, thresholds=FreshnessThresholds.for_gdpr_audit(), now=now
    )
    return check


def _database_label() -> str:
    """Which database a monitor looked at (host and name only, never credentials)."""
    db = settings.DATABASES["default"]
    return f"{db.get('NAME') or '?'} on {db.get('HOST') or 'localhost'}"


def monitor_alert_text(report: MonitorReport) -> str:
    lines = [f":rotating_light: *{report.monitor}* failed ({_database_label()})"]
    if report.error is not None:
        lines.append(f"• {report.error}")
    lines += [f"• {check.describe()}" for check in report.failing]
    lines += [f"• (warning) {check.describe()}" for check in report.warnings]
    return "\n".join(lines)


def monitor_alert_send(*, webhook_url: str, text: str) -> SlackOutcome:
    """One alert through the site's Slack sender (never posted twice, never raises)."""
    outcome = slack_post(
        webhook_url=webhook_url, text=text, timeout=settings.MONITOR_ALERT_TIMEOUT_SECONDS
    )
    if outcome.delivered:
        return SlackOutcome(delivered=True, detail="alert sent to MONITOR_ALERT_WEBHOOK_URL")
    logger.error("Monitor alert %s", outcome.detail)
    return SlackOutcome(delivered=False, detail=f"alert {outcome.detail}")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def monitor_run(
    *,
    monitor: str,
    check: Callable[[datetime], list[TableFreshness]],
    now: datetime | None = None,
    webhook_url: str | None = None,
) -> MonitorReport:
    """Run one freshness check and, when it fails, send its single alert."""
    now = now or timezone.now()
    report = MonitorReport(monitor=monitor)
    try:
        report.checks = check(now)
    except ProgrammingError as exc:
        # The server answered, the tables are not there (a database never migrated, a
        # table dropped): missing, as a stale table is, not unreachable.
        report.error = f"tables missing: {_first_line(exc)}"
        report.error_exit_code = EXIT_STALE
    except DatabaseError as exc:
        # OperationalError (no server, refused, timeout) and InterfaceError alike: a monitor
        # that cannot look must never look like one that found nothing wrong.
        report.error = f"cannot read the database: {_first_line(exc)}"
    if report.failed:
        url = settings.MONITOR_ALERT_WEBHOOK_URL if webhook_url is None else webhook_url
        if url:
            report.alert = monitor_alert_send(webhook_url=url, text=monitor_alert_text(report))
        else:
            report.alert = SlackOutcome(
                delivered=False, detail="MONITOR_ALERT_WEBHOOK_URL is not set: no alert sent"
            )
    return report


def telemetry_rollups_monitor_run(
    *, now: datetime | None = None, webhook_url: str | None = None
) -> MonitorReport:
    return monitor_run(
        monitor="monitor_telemetry_rollups",
        check=lambda moment: rollups_freshness(now=moment),
        now=now,
        webhook_url=webhook_url,
    )


def gdpr_audit_monitor_run(
    *, now: datetime | None = None, webhook_url: str | None = None
) -> MonitorReport:
    return monitor_run(
        monitor="monitor_gdpr_audit",
        check=lambda moment: [gdpr_audit_freshness(now=moment)],
        now=now,
        webhook_url=webhook_url,
    )
