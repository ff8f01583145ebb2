"""The runbooks' dry-run commands, as written (with `python manage.py` for the scripts),
against the demo data."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from exports.models import ExportRun
from reports.models import GuardrailFollowUp
from smplat.seed import seed_dashboard

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_data():
    seed_dashboard()  # a few seconds: seeded once, for one test


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_runbook_dry_runs_work_against_the_demo_data(demo_data, tmp_path):
    # guardrail-followups-export.md
    five = [
        json.loads(line) for line in run("export_guardrail_followups", "--limit", "5").splitlines()
    ]
    assert len(five) == 5
    assert five == sorted(five, key=lambda row: row["createdAt"])

    provider = GuardrailFollowUp.objects.values_list("provider_id", flat=True).first()
    cursor_path = tmp_path / "cursors" / "guardrail_followups.json"
    run(
        "export_guardrail_followups",
        "--limit",
        "20",
        "--provider-id",
        provider,
        "--sink",
        "file",
        "--file-path",
        str(tmp_path / "guardrail.ndjson"),
        "--cursor-store",
        "file",
        "--cursor-store-path",
        str(cursor_path),
    )
    rows = [json.loads(line) for line in (tmp_path / "guardrail.ndjson").read_text().splitlines()]
    assert len(rows) == 20 and {row["providerId"] for row in rows} == {provider}
    assert json.loads(cursor_path.read_text())["rows"] == 20

    # runbooks-readme.md and data-lake.md
    csv_lines = run("export_offer_events", "--lookback-days", "14", "--format", "csv").splitlines()
    assert csv_lines[0].startswith("event_id,offer_slug,event_type") and len(csv_lines) > 100
    segments = run("export_onboarding_pricing_segments", "--limit", "10").splitlines()
    assert len(segments) == 10 and all(json.loads(line)["slug"] for line in segments)
    assert ExportRun.objects.filter(trigger="schedule", outcome="succeeded").count() >= 2
