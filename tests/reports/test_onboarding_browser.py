"""/admin/onboarding/ in headless Chromium: log in, filter the segments, download the CSV.

Runs on pytest-django's live server over the demo data and leaves full-page screenshots
(light and dark) in test-artifacts/.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from telemetry.models import PricingExperimentSegment
from telemetry.rows import SEGMENT_CSV_HEADER
from tests.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_operator_filters_segments_and_downloads_exactly_those_rows(
    demo_data, alice, browser_page, color_scheme
):
    page = browser_page(
        user="alice",
        password="alice-password",
        next_url="/admin/onboarding/",
        color_scheme=color_scheme,
    )

    expect(page.locator("#content h1")).to_have_text("Onboarding & experiments")
    expect(page.locator(".breadcrumbs")).to_contain_text("Onboarding")
    expect(page.locator("#nav-sidebar")).to_be_attached()
    assert page.locator("#journey-table tbody tr[data-journey]").count() == 20
    expect(page.locator("#journey-table .progress-bar").first).to_be_visible()
    expect(page.locator('[data-funnel] [data-metric="completionRate"]')).to_contain_text("%")
    screenshot(page, f"onboarding-{color_scheme}")

    page.click('[data-status-filter="completed"]')
    for status in page.locator("#journey-table tbody tr[data-journey]").all():
        assert status.get_attribute("data-status") == "completed"

    date_from = (timezone.now() - timedelta(days=14)).date()
    form = page.locator("#segment-filters")
    form.locator("select[name=slug]").select_option("spring-offer")
    form.locator("select[name=control]").select_option("variant")
    form.locator("input[name=date_from]").fill(date_from.isoformat())
    with page.expect_navigation():
        form.locator("input[type=submit]").click()

    expected = PricingExperimentSegment.objects.filter(
        slug="spring-offer", is_control=False, recorded_at__date__gte=date_from
    )
    assert "status=completed" in page.url, "the journey filter survives the segment filters"
    expect(page.locator("#segment-count")).to_contain_text(f"{expected.count()} matching rows")
    rows = page.locator("#segment-rows tbody tr[data-segment]")
    assert rows.count() == min(expected.count(), 50)
    expect(page.locator("#segment-summary tbody[data-slug]")).to_have_count(1)
    page.evaluate("window.scrollTo(0, 0)")  # the admin's sticky sidebar follows the scroll
    screenshot(page, f"onboarding-filtered-{color_scheme}")

    with page.expect_download() as download_info:
        page.click("#segments-csv")
    download = download_info.value
    assert download.suggested_filename == "onboarding-experiment-segments.csv"
    with open(download.path(), encoding="utf-8") as handle:
        reader = csv.reader(io.StringIO(handle.read()))
    header, *body = list(reader)
    assert tuple(header) == SEGMENT_CSV_HEADER
    assert sorted(row[0] for row in body) == sorted(
        str(event_id) for event_id in expected.values_list("event_id", flat=True)
    )
    assert {(row[4], row[7]) for row in body} == {("spring-offer", "false")}


def test_a_bad_date_shows_a_form_error(demo_data, alice, browser_page):
    page = browser_page(
        user="alice", password="alice-password", next_url="/admin/onboarding/?date_from=2026-02-30"
    )
    expect(page.locator("#segment-filters .errorlist")).to_contain_text("Enter a valid date.")
    expect(page.locator("#segments-csv")).to_have_count(0)
    screenshot(page, "onboarding-bad-filter-light")
