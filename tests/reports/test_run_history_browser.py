"""The card's rewind in headless Chromium: preview, apply, run, read the result on the card."""

import pytest
from django.core.cache import cache

from exports.services import export_run
from tests.browser import screenshot
from tests.exports.conftest import make_follow_ups

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rewind_a_feed_run_it_and_read_the_result_on_the_card(
    browser_page, alice, settings, tmp_path
):
    for name in dir(settings):
        if name.endswith(("_STATUS_URL", "_STATUS_S3_URI", "_TRIGGER_URL")):
            setattr(settings, name, "")
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "followups.ndjson")
    settings.GUARDRAIL_EXPORT_CURSOR_PATH = str(tmp_path / "cursor.json")
    settings.EXPORT_SAFETY_LAG_SECONDS = 0
    cache.clear()
    make_follow_ups(20)
    assert export_run(feed="guardrail_followups").rows == 20

    page = browser_page(user="alice", password="alice-password", next_url="/admin/reports/")
    card = page.locator("#card-guardrail_followups")
    card.get_by_text("Rewind or backfill").click()
    card.get_by_label("from the beginning").check()
    card.get_by_label("Reason").fill("receiver dropped batches")
    card.get_by_role("button", name="Preview").click()
    assert page.locator("[data-rows-to-resend]").inner_text() == "20"
    page.get_by_role("button", name="Rewind the cursor").click()
    # Said in the card the redirect lands on, on screen, not at the top of the page.
    message = page.locator("#card-guardrail_followups .card-message")
    assert "the next run re-sends 20 rows" in message.inner_text()
    box = message.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"], f"the message is at {box['y']}px"

    run = export_run(feed="guardrail_followups")  # the scheduled run, here in the test
    page.reload()
    card = page.locator("#card-guardrail_followups")
    assert f"Run #{run.pk} succeeded, 20 rows in" in card.locator(".run-result").inner_text()
    assert "receiver dropped batches" in card.locator(".cursor-changes").inner_text()
    screenshot(page, "reports-card-after-rewind")
    card.locator(".run-result").get_by_role("link").click()
    assert "Cursor moved by hand before this run" in page.content()
    screenshot(page, "run-page-after-rewind")
