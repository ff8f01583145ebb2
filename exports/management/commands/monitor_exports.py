"""python manage.py monitor_exports: every feed's health, one Slack alert per flip."""

from django.core.management.base import BaseCommand, CommandError

from exports.monitor import describe, monitor_exports_run


class Command(BaseCommand):
    help = (
        "Judge every export feed (never, running, fresh, late, stale, failing, stuck), record "
        "each change of state and send one Slack message when a feed goes bad or recovers "
        "(EXPORT_ALERT_WEBHOOK_URL, else MONITOR_ALERT_WEBHOOK_URL). Exits 1 while any feed "
        "is stale, failing or stuck, 2 when the database cannot be read."
    )

    def handle(self, *args, **options):
        report = monitor_exports_run()
        verbosity = options["verbosity"]
        for check in report.checks:
            line = describe(check)
            if check.health.bad:
                self.stderr.write(self.style.ERROR(line))
            elif check.health.state == "late":
                self.stderr.write(self.style.WARNING(line))
            elif verbosity >= 1:
                self.stdout.write(line)
            if check.flip is not None and verbosity >= 1:
                self.stdout.write(f"  flip: {check.flip.from_state} -> {check.flip.to_state}")
            if check.alert is not None:
                style = self.style.SUCCESS if check.alert.delivered else self.style.ERROR
                self.stderr.write(style(f"  {check.alert.detail}"))
        if report.error is not None:
            raise CommandError(report.error, returncode=report.exit_code)
        if report.bad:
            feeds = ", ".join(f"{c.health.feed} ({c.health.state})" for c in report.bad)
            raise CommandError(f"unhealthy exports: {feeds}", returncode=report.exit_code)
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS("monitor_exports: OK"))
