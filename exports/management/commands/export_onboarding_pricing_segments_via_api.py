"""`export_onboarding_pricing_segments_via_api`: the same segments walked over the reporting API
(SPEC §4)."""

from exports.management.commands._base import ExportCommand
from exports.models import Feed


class Command(ExportCommand):
    help = (
        "Export onboarding pricing-experiment segments read from the reporting API over HTTP"
        " (walks nextCursor with CHECKOUT_API_KEY), for hosts without database access."
    )
    feed = Feed.ONBOARDING_PRICING_SEGMENTS_VIA_API

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--api-url",
            help="the reporting site's base URL or its experiment-events endpoint"
            " (default REPORTING_API_URL)",
        )
