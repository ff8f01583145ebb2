"""``manage.py seed_dashboard``: every app's demo data, in the order they depend on each
other (see ``smplat/demo.py`` for what makes it idempotent)."""

from __future__ import annotations

import random
from datetime import datetime

from django.utils import timezone

from exports import demo as export_demo
from reports import demo as report_demo
from smplat.demo import SeedReport
from telemetry import demo as telemetry_demo


def seed_dashboard(*, now: datetime | None = None, seed: int = 20260122) -> SeedReport:
    """Fill every table with demo data; safe to run again (see the module docstring)."""
    now = now or timezone.now()
    report = SeedReport()

    def rng(part: str) -> random.Random:
        # One generator per part: what one part draws never shifts what another draws, so a
        # part skipped on a re-run cannot change the ids the others generate.
        return random.Random(f"{seed}/{part}")  # noqa: S311 - seeded demo data

    report_demo.seed(now, report, rng, seed)
    telemetry_demo.seed(now, report, rng, seed)
    # Last: the export history ends where the rows seeded above would have been exported.
    export_demo.seed(now, report, rng, seed)
    return report
