"""/admin/reports/ in headless Chromium: log in, run an export, watch the card change."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache

from exports.models import ExportRun
from tests.browser import screenshot
from tests.factories import GuardrailFollowUpFactory
from tests.subprocesses import child_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_exports(tmp_path, settings):
    """Exports configured as `make run` configures them: files under a demo folder."""
    folder = tmp_path / "demo-exports"
    folder.mkdir()
    env = {
        "GUARDRAIL_EXPORT_SINK": "file",
        "GUARDRAIL_EXPORT_FILE_PATH": str(folder / "guardrail.ndjson"),
        "GUARDRAIL_EXPORT_CURSOR_PATH": str(folder / "cursor.json"),
        "GUARDRAIL_EXPORT_STATUS_S3_URI": str(folder / "status.json"),
        "EXPORT_SAFETY_LAG_SECONDS": "0",
    }
    for name in dir(settings):
        if name.endswith(("_STATUS_URL", "_STATUS_S3_URI", "_TRIGGER_URL")):
            setattr(settings, name, "")
    for name, value in env.items():  # the site's own settings as the worker's
        setattr(settings, name, float(value) if name == "EXPORT_SAFETY_LAG_SECONDS" else value)
    cache.clear()
    return env


def test_run_export_now_shows_queued_then_the_new_cursor(
    browser_page, alice, demo_data, demo_exports
):
    page = browser_page(user="alice", password="alice-password", next_url="/admin/reports/")
    card = page.locator("#card-guardrail_followups")
    assert card.is_visible()
    screenshot(page, "reports-page")

    card.get_by_role("button", name="Run export now").click()
    page.locator("#card-guardrail_followups[data-in-flight=queued]").wait_for()
    assert "queued" in page.locator("#card-guardrail_followups .run-state").inner_text()

    worker = subprocess.Popen(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "db_worker",
            "--batch",
            "--no-startup-delay",
        ],
        env=child_env(**demo_exports),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert worker.wait(timeout=120) == 0, worker.stderr.read().decode()
    finally:
        worker.kill()
    run = ExportRun.objects.filter(trigger="manual").get()
    assert run.outcome == "succeeded", run.error

    # The page polls the card: no reload, and it ends showing the cursor the run reached.
    page.locator("#card-guardrail_followups:not([data-in-flight])").wait_for(timeout=20_000)
    assert run.cursor_after in page.locator("#card-guardrail_followups .cursor").inner_text()
    assert "badge-fresh" in page.locator("#card-guardrail_followups .badge").get_attribute("class")
    screenshot(page, "reports-page-after-run")


def test_reports_page_in_dark_mode(browser_page, alice, demo_data, demo_exports):
    page = browser_page(
        user="alice", password="alice-password", next_url="/admin/reports/", color_scheme="dark"
    )
    assert page.locator(".export-card").count() == 4
    background = page.evaluate(
        "getComputedStyle(document.querySelector('.export-card')).backgroundColor"
    )
    assert background != "rgb(255, 255, 255)"
    screenshot(page, "reports-page-dark")


@pytest.mark.parametrize(
    "path",
    [
        "/admin/reports/",
        "/admin/onboarding/",
        "/dashboard/telemetry/",
        "/dashboard/telemetry/gdpr/",
    ],
)
def test_a_phone_screen_does_not_scroll_sideways(browser_page, alice, demo_data, path):
    """Wide tables scroll inside their own box; even an unbroken 180-character id wraps."""
    GuardrailFollowUpFactory(provider_id="prov-" + "x" * 180)
    page = browser_page(
        user="alice",
        password="alice-password",
        next_url=path,
        viewport={"width": 390, "height": 844},
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "phone" + path.strip("/").replace("/", "-"))
    assert width <= 392, f"{path} is {width}px wide on a 390px screen"
