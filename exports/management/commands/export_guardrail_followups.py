"""`export_guardrail_followups`: the follow-up feed's exporter (SPEC §4)."""

from exports.management.commands._base import ExportCommand
from exports.models import Feed


class Command(ExportCommand):
    help = "Export guardrail follow-ups, oldest first, to stdout, a file, a webhook or S3."
    feed = Feed.GUARDRAIL_FOLLOWUPS

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--provider-id", help="only this provider's follow-ups")
