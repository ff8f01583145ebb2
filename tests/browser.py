"""Playwright fixtures for browser tests against pytest-django's ``live_server``.

Loaded for the whole suite by ``pytest_plugins`` in tests/conftest.py, so any page's smoke
test can use them::

    from tests.browser import screenshot

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

    def test_page(live_server, alice, browser_page):
        page = browser_page(user="alice", password="alice-password", next_url="/admin/")
        screenshot(page, "admin-home")

The browser is the system's Chromium (``/usr/bin/chromium``, or ``CHROMIUM_PATH``): Playwright's
own browser download is never used, so nothing is fetched at test time. Without it the tests
skip, saying why. Screenshots go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
VIEWPORT = {"width": 1400, "height": 900}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """One headless Chromium per test module.

    Module scope, not session: while Playwright runs, this thread counts as async to Django,
    so DJANGO_ALLOW_ASYNC_UNSAFE must be set, and it must not outlive the browser tests (the
    process's other tests, and the subprocesses they start, must run with Django's check).
    """
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread, and Django refuses ORM
    # calls from a thread with a running loop. The loop is Playwright's own and never runs
    # our code, so the check is a false alarm here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(chromium, live_server) -> Iterator[Callable]:
    """A factory of pages logged in through the admin login form (as a person would).

    ``browser_page(user=..., password=..., next_url=..., color_scheme="light"|"dark",
    viewport={"width": ..., "height": ...})`` returns a page showing ``next_url`` after the
    login; contexts close after the test.
    """
    contexts = []

    def open_page(
        *,
        user: str,
        password: str,
        next_url: str = "/admin/",
        color_scheme: str = "light",
        viewport: dict | None = None,
    ):
        context = chromium.new_context(viewport=viewport or VIEWPORT, color_scheme=color_scheme)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/?next={next_url}")
        page.fill("#id_username", user)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("input[type=submit]")
        return page

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """A full-page PNG in test-artifacts/, to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def demo_data(settings, tmp_path) -> None:
    """The demo data of `make run`, for pages that should look as a newcomer sees them: with
    its quick-order status payload, so the comparison and its drift flag are on the page."""
    from django.core.management import call_command

    settings.QUICK_ORDER_EXPORT_STATUS_URL = str(tmp_path / "quick-order-export-status.json")
    call_command("seed_dashboard", verbosity=0)
