"""`export_onboarding_pricing_segments`: the experiment segment feed's exporter (SPEC §4)."""

from exports.management.commands._base import ExportCommand
from exports.models import Feed


class Command(ExportCommand):
    help = "Export onboarding pricing-experiment segments to stdout, a file, a webhook or S3."
    feed = Feed.ONBOARDING_PRICING_SEGMENTS
