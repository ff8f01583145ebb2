"""`export_guardrail_workflow_telemetry`: the guardrail workflow window's snapshot to S3 (SPEC §4)."""

from exports.management.commands._base import SnapshotCommand
from exports.models import Feed


class Command(SnapshotCommand):
    help = (
        "Download the guardrail workflow NDJSON window, upload it to S3 under"
        " guardrail-workflow/YYYY/MM/DD/, write the status JSON and notify Slack."
    )
    feed = Feed.GUARDRAIL_WORKFLOW_TELEMETRY
