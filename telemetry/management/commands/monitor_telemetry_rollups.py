"""`monitor_telemetry_rollups`: the chat rollups' freshness monitor (one Slack alert per failing
run)."""

from telemetry.management.commands._monitor import MonitorCommand
from telemetry.monitors import telemetry_rollups_monitor_run


class Command(MonitorCommand):
    help = (
        "Check that each chat telemetry rollup table has a recent bucket. Exits 1 when one is "
        "stale or missing, 2 when the database cannot be read; then sends one Slack alert to "
        "MONITOR_ALERT_WEBHOOK_URL. Thresholds: TELEMETRY_ROLLUPS_WARN_AFTER_HOURS and "
        "TELEMETRY_ROLLUPS_ERROR_AFTER_HOURS."
    )

    def run_monitor(self):
        return telemetry_rollups_monitor_run()
