"""seed_dashboard: idempotent demo data that agrees with itself (history, cursors, sinks)."""

from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command

from reports.models import GuardrailFollowUp
from telemetry.models import (
    GUARDRAIL_WORKFLOW_WINDOW,
    QUICK_ORDER_WINDOW,
    GuardrailWorkflowEvent,
    PricingExperimentSegment,
    QuickOrderEvent,
)

pytestmark = pytest.mark.django_db

SEEDED_APPS = ("telemetry", "reports", "exports")


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for app in SEEDED_APPS
        for model in apps.get_app_config(app).get_models()
    }


@time_machine.travel(datetime(2026, 11, 22, 9, 30, tzinfo=UTC), tick=False)
def test_seed_fills_every_table_and_a_second_run_adds_no_copy():
    call_command("seed_dashboard", verbosity=0)
    first = _counts()
    assert all(first.values()), [label for label, count in first.items() if not count]

    call_command("seed_dashboard", verbosity=0)
    assert _counts() == first


@time_machine.travel(datetime(2026, 11, 22, 9, 30, tzinfo=UTC), tick=False)
def test_seed_has_what_the_pages_and_exports_need_to_show():
    call_command("seed_dashboard", verbosity=0)

    actions = Counter(GuardrailFollowUp.objects.values_list("action", flat=True))
    assert set(actions) == {"pause", "resume", "escalate"}
    assert GuardrailFollowUp.objects.values("provider_id").distinct().count() >= 3
    shared = Counter(GuardrailFollowUp.objects.values_list("created_at", flat=True))
    assert any(n > 1 for n in shared.values()), "some follow-ups must share a timestamp"

    assert QuickOrderEvent.objects.count() == QUICK_ORDER_WINDOW
    assert GuardrailWorkflowEvent.objects.count() == GUARDRAIL_WORKFLOW_WINDOW
    assert set(QuickOrderEvent.objects.values_list("event_name", flat=True)) == {
        "quick_order.start",
        "quick_order.abort",
        "quick_order.complete",
    }

    segments = PricingExperimentSegment.objects.all()
    assert segments.values("slug").distinct().count() >= 3
    assert segments.filter(is_control=True).exists() and segments.filter(is_control=False).exists()


def test_seed_leaves_a_full_window_of_real_events_alone():
    QuickOrderEvent.objects.bulk_create(
        QuickOrderEvent(event_name="quick_order.start", product_id="p", product_title="Real")
        for _ in range(QUICK_ORDER_WINDOW)
    )
    call_command("seed_dashboard", verbosity=0)
    assert set(QuickOrderEvent.objects.values_list("product_title", flat=True)) == {"Real"}


def test_the_seeded_export_history_agrees_with_the_seeded_rows():
    """A demo's cursors are real row positions, so its first run moves them forward."""
    from exports import registry
    from exports.feeds import RowFeed
    from exports.models import ExportRun
    from smplat.cursors import format_cursor

    call_command("seed_dashboard", verbosity=0)
    row_feeds = [d for d in registry.feeds() if isinstance(d, RowFeed)]
    assert row_feeds
    for definition in row_feeds:
        feed = definition.name
        runs = ExportRun.objects.filter(feed=feed, outcome="succeeded").order_by("created_at")
        if feed not in ("guardrail_followups", "onboarding_pricing_segments"):
            assert not runs.exists()
            continue
        assert runs.exists()
        ts = definition.timestamp_field
        positions = {format_cursor(t, i) for t, i in definition.model.objects.values_list(ts, "id")}
        assert {run.cursor_after for run in runs} <= positions
        from exports.models import CursorChange

        # Rows are sent once, plus what a rewind in the history re-sent.
        resent = sum(
            CursorChange.objects.filter(feed=feed).values_list("rows_to_resend", flat=True)
        )
        assert sum(run.rows for run in runs) <= definition.model.objects.count() + resent
        newest = definition.model.objects.order_by(f"-{ts}", "-id").values_list(ts, "id")[0]
        assert runs.last().cursor_after <= format_cursor(*newest)


@time_machine.travel(datetime(2026, 11, 22, 9, 30, tzinfo=UTC), tick=False)
def test_the_demo_history_matches_its_file_sinks_and_cursors(settings, tmp_path):
    """As `make run` configures it: the file and cursor hold what the history says it sent,
    so the first real run starts where the last seeded one ended."""
    import json

    from exports.models import ExportRun

    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "followups.ndjson")
    settings.GUARDRAIL_EXPORT_CURSOR_PATH = str(tmp_path / "cursor.json")
    call_command("seed_dashboard", verbosity=0)

    runs = ExportRun.objects.filter(feed="guardrail_followups")
    assert set(runs.values_list("sink", flat=True)) == {"file"}
    assert {"succeeded", "no_data", "failed"} <= set(runs.values_list("outcome", flat=True))
    sent = runs.filter(outcome="succeeded").order_by("created_at")
    lines = (tmp_path / "followups.ndjson").read_text().splitlines()
    assert len(lines) == sum(run.rows for run in sent)
    cursor = json.loads((tmp_path / "cursor.json").read_text())["cursor"]
    assert cursor == runs.exclude(outcome="failed").order_by("created_at").last().cursor_after


def test_the_demo_shows_a_fresh_a_late_and_a_failing_export_with_their_flips(client, alice):
    """A new site's /admin/reports/ shows each kind of health the cards can have."""
    import re

    from exports.models import FeedFlip

    call_command("seed_dashboard", verbosity=0)
    client.force_login(alice)
    html = client.get("/admin/reports/").content.decode()

    states = set(re.findall(r'<article class="export-card state-([a-z]+)"', html))
    assert {"fresh", "late", "failing"} <= states
    assert FeedFlip.objects.filter(to_state="failing").exists()
