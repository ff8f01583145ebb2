"""Browser smoke tests of /dashboard/telemetry/ and its GDPR view in headless Chromium.

They log in through the admin login form on pytest-django's live server, over demo data
seeded by ``seed_dashboard``, and leave full-page screenshots in test-artifacts/.
"""

import pytest
from playwright.sync_api import expect

from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLLUP_TABLES = [
    "chat_telemetry_rollups",
    "chat_telemetry_domain_rollups",
    "chat_telemetry_model_rollups",
]


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_telemetry_dashboard_shows_charts_and_fresh_rollups(
    demo_data, alice, browser_page, color_scheme
):
    page = browser_page(
        user="alice",
        password="alice-password",
        next_url="/dashboard/telemetry/",
        color_scheme=color_scheme,
    )

    expect(page.locator("#content h1")).to_have_text("Chat telemetry")
    expect(page.locator("#site-name")).to_contain_text("smplat reports")
    for chart in ["messages", "domains", "latency", "tokens"]:
        expect(page.locator(f'figure[data-chart="{chart}"] svg')).to_be_visible()
    assert page.locator('figure[data-chart="messages"] rect.bar').count() >= 20
    assert page.locator('figure[data-chart="latency"] g.line').count() == 3
    for table in ROLLUP_TABLES:
        expect(page.locator(f'tr[data-table="{table}"] [data-freshness="fresh"]')).to_be_visible()
    expect(page.locator('#gdpr-health [data-freshness="fresh"]')).to_be_visible()
    expect(page.locator('[data-breakdown="model"]')).to_contain_text("gpt-4o-mini")
    screenshot(page, f"telemetry-dashboard-24h-{color_scheme}")

    page.click("text=Last 7 days")
    expect(page.locator('nav.toolbar a[aria-current="page"]')).to_have_text("Last 7 days")
    assert page.locator('figure[data-chart="messages"] rect.bar').count() >= 150
    screenshot(page, f"telemetry-dashboard-7d-{color_scheme}")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_gdpr_view_shows_health_and_recent_entries(demo_data, alice, browser_page, color_scheme):
    page = browser_page(
        user="alice",
        password="alice-password",
        next_url="/dashboard/telemetry/",
        color_scheme=color_scheme,
    )

    page.click("text=Open the GDPR audit view")

    expect(page.locator("#content h1")).to_have_text("GDPR audit log health")
    expect(page.locator('tr[data-table="gdpr_audit_log"] [data-freshness="fresh"]')).to_be_visible()
    expect(page.locator('figure[data-chart="gdpr-per-day"] svg')).to_be_visible()
    assert page.locator("table.gdpr-entries tbody tr[data-entry]").count() == 50
    expect(page.locator("table.gdpr-entries")).to_contain_text("privacy-bot")
    screenshot(page, f"telemetry-gdpr-{color_scheme}")
