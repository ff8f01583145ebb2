"""What the two monitor commands share: printing a MonitorReport and exiting with its code."""

from abc import ABC, abstractmethod

from django.core.management.base import BaseCommand, CommandError

from telemetry.monitors import Freshness, MonitorReport


class MonitorCommand(BaseCommand, ABC):
    """Exit 0 when fresh or only late (warning), 1 when stale or missing, 2 when unreadable."""

    @abstractmethod
    def run_monitor(self) -> MonitorReport:
        """Check the tables this command watches (each monitor command says which)."""

    def handle(self, *args, **options):
        report = self.run_monitor()
        verbosity = options["verbosity"]
        for check in report.checks:
            if check.status.failing:
                self.stderr.write(self.style.ERROR(check.describe()))
            elif check.status is Freshness.WARN:
                self.stderr.write(self.style.WARNING(f"warning: {check.describe()}"))
            elif verbosity >= 1:
                self.stdout.write(check.describe())
        if report.alert is not None:
            style = self.style.WARNING if report.alert.delivered else self.style.ERROR
            self.stderr.write(style(report.alert.detail))
        if report.error is not None:
            raise CommandError(report.error, returncode=report.exit_code)
        if report.failed:
            tables = ", ".join(check.table for check in report.failing)
            raise CommandError(f"stale or missing: {tables}", returncode=report.exit_code)
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"{report.monitor}: OK"))
