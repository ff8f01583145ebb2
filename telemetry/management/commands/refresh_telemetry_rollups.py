"""`refresh_telemetry_rollups`: recompute the chat telemetry rollups of the buckets that changed."""

from django.core.management.base import BaseCommand

from telemetry.rollups import rollups_refresh


class Command(BaseCommand):
    help = (
        "Recompute the chat telemetry rollups of every hour bucket that received messages "
        "since the last refresh (all buckets with --full). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--full",
            action="store_true",
            help="Recompute every bucket and drop rollup rows that no longer have messages.",
        )

    def handle(self, *args, full: bool, **options):
        result = rollups_refresh(full=full)
        if options["verbosity"] >= 2:
            since = result.since.isoformat() if result.since else "the first message"
            self.stdout.write(f"  looked at messages ingested since {since}")
            for table, rows in result.buckets_written.items():
                deleted = result.rows_deleted[table]
                self.stdout.write(f"  {table}: {rows} rows written, {deleted} deleted")
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Rollups refreshed ({'full' if full else 'incremental'}): "
                    f"{result.buckets_recomputed} hour buckets recomputed."
                )
            )
