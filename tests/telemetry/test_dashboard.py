"""/dashboard/telemetry/ and its GDPR view: who may see them, what they show, what they cost."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from telemetry.charts import bar_chart, line_chart, nice_ceiling
from telemetry.dashboard import telemetry_dashboard
from telemetry.models import (
    ChatMessage,
    ChatTelemetryDomainRollup,
    ChatTelemetryModelRollup,
    ChatTelemetryRollup,
    GdprAuditLog,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
DASHBOARD = "/dashboard/telemetry/"
GDPR = "/dashboard/telemetry/gdpr/"


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _grant(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def _rollup_hours(hours: int, *, domains=("shop.smplat.io",), models=("gpt-4o-mini",)) -> None:
    """``hours`` hour buckets of rollups ending with the current hour (what a refresh writes)."""
    last = NOW.replace(minute=0)
    for back in range(hours):
        bucket = last - timedelta(hours=back)
        ChatTelemetryRollup.objects.create(
            bucket_start=bucket,
            messages=10,
            assistant_messages=5,
            failed_messages=1,
            avg_latency_ms=700,
            input_tokens=5000,
            output_tokens=500,
        )
        for domain in domains:
            ChatTelemetryDomainRollup.objects.create(
                bucket_start=bucket, domain=domain, messages=10, avg_latency_ms=700
            )
        for model in models:
            ChatTelemetryModelRollup.objects.create(
                bucket_start=bucket,
                model=model,
                messages=5,
                avg_latency_ms=700,
                input_tokens=5000,
                output_tokens=500,
            )


def _gdpr_entries(count: int) -> None:
    GdprAuditLog.objects.bulk_create(
        GdprAuditLog(
            action="export",
            outcome="completed" if index % 4 else "pending",
            subject_reference=f"cust_{index}",
            actor="privacy-bot",
            created_at=NOW - timedelta(hours=index),
        )
        for index in range(count)
    )


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


# --- Who may see the pages -------------------------------------------------------------------


@pytest.mark.parametrize("url", [DASHBOARD, GDPR, f"{DASHBOARD}?window=7d"])
def test_anonymous_is_sent_to_the_admin_login(url):
    response = _client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/dashboard/telemetry/")


@pytest.mark.parametrize("url", [DASHBOARD, GDPR])
def test_charlie_without_staff_access_is_refused(charlie, url):
    assert _client(charlie).get(url).status_code == 403


@pytest.mark.parametrize("url", [DASHBOARD, GDPR])
def test_bob_staff_without_the_view_permission_is_refused(bob, url):
    assert _client(bob).get(url).status_code == 403


def test_a_customer_account_holding_the_permission_is_still_refused(charlie):
    _grant(charlie, "view_chattelemetryrollup")

    assert _client(charlie).get(DASHBOARD).status_code == 403


def test_bob_with_the_rollup_permission_sees_the_dashboard_but_not_the_gdpr_view(bob):
    _grant(bob, "view_chattelemetryrollup")
    client = _client(bob)

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    assert b"Open the GDPR audit view" not in response.content
    assert client.get(GDPR).status_code == 403
    _grant(bob, "view_gdprauditlog")
    assert _client(bob).get(GDPR).status_code == 200


def test_pages_only_answer_get_and_head(alice):
    client = _client(alice)
    assert client.post(DASHBOARD).status_code == 405
    assert client.head(DASHBOARD).status_code == 200


# --- What they show ----------------------------------------------------------------------------


def test_dashboard_shows_the_demo_data_as_the_messages_add_up(alice):
    call_command("seed_dashboard", verbosity=0)
    first_bucket = NOW.replace(minute=0) - timedelta(hours=23)
    messages = ChatMessage.objects.filter(created_at__gte=first_bucket)
    assistant = messages.filter(role="assistant")

    response = _client(alice).get(DASHBOARD)

    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    assert dashboard.messages == messages.count() > 100
    assert dashboard.assistant_messages == assistant.count()
    assert dashboard.failed_messages == assistant.filter(succeeded=False).count()
    assert dashboard.output_tokens == sum(assistant.values_list("output_tokens", flat=True))
    assert {d.name for d in dashboard.domains} == {
        "shop.smplat.io",
        "instaboost.smplat.io",
        "creators.smplat.io",
    }
    assert sum(d.messages for d in dashboard.domains) == dashboard.messages
    assert {m.name for m in dashboard.models} == {
        "gpt-4o-mini",
        "claude-3-5-haiku",
        "llama-3.1-70b",
    }
    assert [check.status for check in dashboard.freshness] == ["fresh"] * 3
    html = response.content.decode()
    assert f"{dashboard.messages:,}" in html
    assert html.count('data-freshness="fresh"') == 4  # three rollups and the GDPR log
    for chart in ["messages", "domains", "latency", "tokens"]:
        assert f'data-chart="{chart}"' in html
    assert "<script" not in html.split('<div id="content-main"')[1], "charts need no JavaScript"
    assert 'id="site-name"' in html, "the admin's header"


def test_gdpr_view_shows_recent_entries_and_health_of_the_demo_log(alice):
    call_command("seed_dashboard", verbosity=0)

    response = _client(alice).get(GDPR)

    assert response.status_code == 200
    gdpr = response.context["gdpr"]
    assert gdpr.freshness.status == "fresh"
    assert len(gdpr.recent) == 50
    assert gdpr.recent[0] == GdprAuditLog.objects.order_by("-created_at").first()
    html = response.content.decode()
    assert gdpr.recent[0].subject_reference in html
    assert 'data-chart="gdpr-per-day"' in html
    thirty_days = NOW.replace(hour=0, minute=0) - timedelta(days=29)  # today and 29 before
    assert gdpr.total == GdprAuditLog.objects.filter(created_at__gte=thirty_days).count()
    assert (
        gdpr.pending
        == GdprAuditLog.objects.filter(created_at__gte=thirty_days, outcome="pending").count()
    )


def test_the_window_can_be_seven_days_and_an_unknown_one_means_24_hours(alice):
    _rollup_hours(30 * 24 // 4)
    client = _client(alice)

    week = client.get(DASHBOARD, {"window": "7d"}).context["dashboard"]
    assert (week.window.key, week.messages) == ("7d", 168 * 10)
    assert len(week.messages_chart.bars) == 168

    fallback = client.get(DASHBOARD, {"window": "1y"}).context["dashboard"]
    assert (fallback.window.key, fallback.messages) == ("24h", 24 * 10)


def test_empty_tables_show_missing_badges_and_no_data(alice):
    response = _client(alice).get(DASHBOARD)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-freshness="missing"') == 4
    assert "No data in this window." in html
    assert _client(alice).get(GDPR).status_code == 200


def test_late_and_stale_rollups_show_their_badges(alice, settings):
    settings.TELEMETRY_ROLLUPS_WARN_AFTER_HOURS = 2
    settings.TELEMETRY_ROLLUPS_ERROR_AFTER_HOURS = 6
    ChatTelemetryRollup.objects.create(bucket_start=NOW - timedelta(hours=3), messages=1)
    ChatTelemetryDomainRollup.objects.create(
        bucket_start=NOW - timedelta(hours=9), domain="shop.smplat.io", messages=1
    )

    statuses = [check.status for check in telemetry_dashboard(window_key="24h").freshness]

    assert statuses == ["warn", "stale", "missing"]


# --- What they cost ----------------------------------------------------------------------------


@pytest.mark.parametrize("hours", [2, 168])
def test_dashboard_query_count_does_not_grow_with_the_data(alice, django_assert_num_queries, hours):
    _rollup_hours(hours, domains=["a.example", "b.example", "c.example"], models=["m1", "m2"])
    client = _client(alice)

    # session, user, overall rollups, domain rollups, model rollups, freshness of 4 tables
    with django_assert_num_queries(6):
        assert client.get(DASHBOARD, {"window": "7d"}).status_code == 200


def test_a_user_with_permissions_costs_two_queries_more(bob, django_assert_num_queries):
    _grant(bob, "view_chattelemetryrollup", "view_gdprauditlog")
    _rollup_hours(24)
    client = _client(bob)

    # + the user's and the groups' permissions, loaded once for the request
    with django_assert_num_queries(8):
        assert client.get(DASHBOARD).status_code == 200


@pytest.mark.parametrize("entries", [3, 300])
def test_gdpr_view_query_count_does_not_grow_with_the_log(
    alice, django_assert_num_queries, entries
):
    _gdpr_entries(entries)
    client = _client(alice)

    # session, user, freshness, recent entries, 30 days of counts per day/action/outcome
    with django_assert_num_queries(5):
        assert client.get(GDPR).status_code == 200


# --- Charts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (52, 60), (61, 80), (100, 100), (101, 120), (2_031_424, 2_400_000)],
)
def test_y_axis_ends_at_a_round_number_just_above_the_data(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_bar_chart_scales_bars_to_the_plot():
    buckets = [NOW.replace(minute=0) - timedelta(hours=h) for h in (2, 1, 0)]

    chart = bar_chart(title="t", unit="messages", buckets=buckets, values=[0, 30, 60])

    assert [bar.height for bar in chart.bars] == [0, chart.plot_height / 2, chart.plot_height]
    assert chart.bars[2].y == chart.plot_top
    assert chart.y_ticks[-1].label == "60"
    assert chart.bars[2].title == "2026-11-22 09:00 UTC: 60 messages"


def test_line_chart_breaks_the_line_where_a_value_is_missing():
    buckets = [NOW.replace(minute=0) - timedelta(hours=h) for h in range(5, -1, -1)]

    chart = line_chart(
        title="t", unit="ms", buckets=buckets, series=[("m", [1, 2, None, 4, None, 6], "")]
    )

    (line,) = chart.lines
    assert len(line.paths) == 1
    assert line.paths[0].count("L") == 1
    assert len(line.dots) == 2, "a point between two gaps is drawn as a dot"
