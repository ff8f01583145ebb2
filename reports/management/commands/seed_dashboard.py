"""`seed_dashboard`: every app's demo data (smplat/seed.py), idempotent."""

from django.core.management.base import BaseCommand

from smplat.seed import seed_dashboard


class Command(BaseCommand):
    help = "Fill every table with realistic demo data. Idempotent: a re-run adds no copies."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=20260122, help="Random seed of the demo data."
        )

    def handle(self, *args, seed: int, **options):
        report = seed_dashboard(seed=seed)
        if options["verbosity"] >= 1:
            for name, count in report.created.items():
                self.stdout.write(f"  {name}: {count} new")
            total = sum(report.created.values())
            self.stdout.write(self.style.SUCCESS(f"Demo data ready ({total} new rows)."))
