"""What a newcomer meets in `make run`: / leads to the admin, the login and the demo's API
key are the last lines of the server's banner, and each log line is printed once."""

import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings

from reports.management.commands.runserver_demo import DEMO_API_KEY, Command
from tests.subprocesses import child_env


@pytest.mark.django_db
def test_the_root_address_takes_a_browser_to_the_admin(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def _banner(**settings_values) -> list[str]:
    command = Command(stdout=StringIO())
    command.addr, command._raw_ipv6, command.protocol = "127.0.0.1", False, "http"
    command.on_bind(8000)
    return [line for line in command.stdout._out.getvalue().splitlines() if line.strip()]


def test_the_login_and_the_api_key_end_the_servers_banner(settings):
    settings.DEBUG = True
    settings.CHECKOUT_API_KEY = DEMO_API_KEY
    lines = _banner()
    starting = next(i for i, line in enumerate(lines) if "Starting development server" in line)
    tail = "\n".join(lines[starting + 1 :])
    assert lines[-3:] == [
        "  Log in    demo / smplat-demo",
        "  API docs  http://127.0.0.1:8000/api/docs/ (after logging in)",
        f"  API key   {DEMO_API_KEY}   e.g. curl -H 'Authorization: Bearer {DEMO_API_KEY}'"
        " http://127.0.0.1:8000/api/v1/reporting/guardrails/followups",
    ]
    assert "Open      http://127.0.0.1:8000/admin/" in tail


def test_a_key_someone_set_is_not_printed(settings):
    settings.DEBUG = False
    settings.CHECKOUT_API_KEY = "a-real-secret-key"
    text = "\n".join(_banner())
    assert "a-real-secret-key" not in text and "smplat-demo" not in text
    assert "the CHECKOUT_API_KEY you set (not printed)" in text


def test_a_django_log_line_is_printed_once():
    """Django's own console handler beside the root's printed "Watching for file changes
    with StatReloader" twice per process."""
    code = (
        "import django; django.setup(); import logging;"
        " logging.getLogger('django.utils.autoreload').info('Watching for file changes')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(DJANGO_SETTINGS_MODULE="smplat.settings", DEBUG="true"),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    output = result.stdout + result.stderr
    assert output.count("Watching for file changes") == 1, output
