"""`export_offer_events`: checkout offer events as NDJSON or CSV (SPEC §4)."""

from exports.management.commands._base import ExportCommand, non_negative_int
from exports.models import Feed


class Command(ExportCommand):
    help = "Export checkout offer impressions and CTA clicks (stdout unless --file-path is given)."
    feed = Feed.OFFER_EVENTS

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--lookback-days", type=non_negative_int, help="only events of the last N days"
        )
        parser.add_argument("--format", choices=["ndjson", "csv"], default="ndjson")

    def handle(self, *args, **options) -> None:
        # SPEC §4: stdout unless --file-path is given.
        if options["file_path"] and options["sink"] == "stdout":
            options["sink"] = "file"
        super().handle(*args, **options)
