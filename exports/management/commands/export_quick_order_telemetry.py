"""`export_quick_order_telemetry`: the quick-order window's snapshot to S3 (SPEC §4)."""

from exports.management.commands._base import SnapshotCommand
from exports.models import Feed


class Command(SnapshotCommand):
    help = (
        "Download the quick-order NDJSON window, upload it to S3 under quick-order/YYYY/MM/DD/,"
        " write the status JSON and notify Slack."
    )
    feed = Feed.QUICK_ORDER_TELEMETRY
