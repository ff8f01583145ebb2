"""Settings come from the environment and fail loudly; without DATABASE_URL the site runs
its own PostgreSQL."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _clean_env(**overrides: str) -> dict[str, str]:
    # tests/settings.py relaxed a few variables for the test client: start from a clean slate.
    relaxed = {
        "DATABASE_URL",
        "DJANGO_SETTINGS_MODULE",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "ALLOWED_HOSTS",
        "SECRET_KEY",
        "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser fixture while Chromium is open
    }
    env = {k: v for k, v in os.environ.items() if k not in relaxed}
    env.update(overrides)
    return env


def test_without_database_url_the_site_starts_and_uses_an_embedded_postgres():
    # Not under pytest's tmp_path: PostgreSQL runs as another user, and every pytest session
    # on the machine sets /tmp/pytest-of-<user> back to 0700 (another session did, mid-test).
    folder = Path(tempfile.mkdtemp(prefix="smplat-embedded-test-"))
    folder.chmod(0o755)
    data_dir = folder / "pg"
    env = _clean_env(DEBUG="true", EMBEDDED_POSTGRES_DIR=str(data_dir))
    try:
        result = _manage(
            "shell",
            "-c",
            "from django.db import connection; c = connection.cursor(); "
            "c.execute('select version()'); print(connection.vendor, c.fetchone()[0])",
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert "postgresql PostgreSQL " in result.stdout
        assert (data_dir / "PG_VERSION").exists()
    finally:
        from smplat.embedded_db import stop_embedded_database

        stop_embedded_database(data_dir)
        shutil.rmtree(folder, ignore_errors=True)


def test_secret_key_is_required_when_debug_is_off():
    env = _clean_env(
        DEBUG="false", SECRET_KEY="", DATABASE_URL="postgres://nobody@127.0.0.1:1/none"
    )
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_mistyped_boolean_fails_instead_of_meaning_false():
    env = _clean_env(DEBUG="ture", DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EXPORT_BATCH_SIZE", "ten", "EXPORT_BATCH_SIZE='ten' is not a valid int"),
        ("EXPORT_BATCH_SIZE", "0", "EXPORT_BATCH_SIZE and EXPORT_RETRY_ATTEMPTS must be >= 1"),
        ("EXPORT_SAFETY_LAG_SECONDS", "soon", "EXPORT_SAFETY_LAG_SECONDS='soon' is not a valid"),
        ("EXPORT_NICE_RATIO", "-1", "EXPORT_NICE_RATIO from 0 to 100"),
    ],
)
def test_a_number_that_does_not_parse_names_its_variable(name, value, message):
    env = _clean_env(DEBUG="true", DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    result = _manage("check", env={**env, name: value})
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    "secret",
    ["a-plain-string-secret", "whsec_", "whsec_not*base64!", "whsec_===="],
)
def test_a_webhook_secret_the_standardwebhooks_libraries_would_read_differently_is_refused(
    secret,
):
    # The reference libraries base64-decode whatever string they are given, so a plain
    # string would verify with another key than the one the sink signed with.
    env = _clean_env(DEBUG="true", DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    result = _manage("check", env={**env, "EXPORT_WEBHOOK_SECRET": secret})
    assert result.returncode != 0
    assert "ImproperlyConfigured: EXPORT_WEBHOOK_SECRET must be a Standard Webhooks secret" in (
        result.stderr
    )
    assert secret == "whsec_" or secret not in result.stderr  # never echoed


def test_a_non_postgres_database_url_is_refused():
    env = _clean_env(DEBUG="true", DATABASE_URL="sqlite:///db.sqlite3")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr


def test_deploy_checks_pass_with_production_settings():
    env = _clean_env(
        DEBUG="false",
        SECRET_KEY="a-long-random-production-secret-key-with-enough-entropy-0123456789-abcdefghij",
        ALLOWED_HOSTS="reports.smplat.io",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
    )
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_production_defaults_are_secure(settings):
    # The test environment only relaxes what it must (https redirects on a test client).
    from django.conf import settings as live

    assert live.DEBUG is False
    assert live.SECURE_HSTS_SECONDS >= 31_536_000
    assert live.X_FRAME_OPTIONS == "DENY"


@pytest.mark.django_db
def test_healthz_answers_plain_http_even_with_https_redirects_on(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/admin/").status_code == 301


def test_an_allowed_host_that_is_not_an_origin_fails_the_checks():
    env = _clean_env(
        DEBUG="true",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        EXPORT_PROXY_ALLOWED_HOSTS="minio:9000,minio:9000/bucket",
    )
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "exports.E001" in result.stderr and "minio:9000/bucket" in result.stderr
