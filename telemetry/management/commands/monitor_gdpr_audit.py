"""`monitor_gdpr_audit`: the GDPR audit log's freshness monitor (one Slack alert per failing run)."""

from telemetry.management.commands._monitor import MonitorCommand
from telemetry.monitors import gdpr_audit_monitor_run


class Command(MonitorCommand):
    help = (
        "Check that gdpr_audit_log has a recent entry. Exits 1 when it is stale or empty, 2 "
        "when the database cannot be read; then sends one Slack alert to "
        "MONITOR_ALERT_WEBHOOK_URL. Thresholds: GDPR_AUDIT_WARN_AFTER_HOURS and "
        "GDPR_AUDIT_ERROR_AFTER_HOURS."
    )

    def run_monitor(self):
        return gdpr_audit_monitor_run()
