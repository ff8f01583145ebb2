"""The freshness monitors: exit codes, and one Slack alert per failing run (none otherwise).

A pytest-httpserver stands in for Slack's incoming webhook.
"""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from werkzeug import Response

from telemetry.models import (
    ChatTelemetryDomainRollup,
    ChatTelemetryModelRollup,
    ChatTelemetryRollup,
    GdprAuditLog,
)
from telemetry.monitors import (
    EXIT_STALE,
    EXIT_UNREACHABLE,
    Freshness,
    format_duration,
    gdpr_audit_monitor_run,
    telemetry_rollups_monitor_run,
)

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
ROLLUP_MODELS = {
    "chat_telemetry_rollups": (ChatTelemetryRollup, {}),
    "chat_telemetry_domain_rollups": (ChatTelemetryDomainRollup, {"domain": "shop.smplat.io"}),
    "chat_telemetry_model_rollups": (ChatTelemetryModelRollup, {"model": "gpt-4o-mini"}),
}


@pytest.fixture
def slack(httpserver, settings):
    """Slack's webhook on loopback, configured as MONITOR_ALERT_WEBHOOK_URL."""
    settings.MONITOR_ALERT_WEBHOOK_URL = httpserver.url_for("/services/T000/B000/slack")
    settings.TELEMETRY_ROLLUPS_WARN_AFTER_HOURS = 2
    settings.TELEMETRY_ROLLUPS_ERROR_AFTER_HOURS = 6
    settings.GDPR_AUDIT_WARN_AFTER_HOURS = 24
    settings.GDPR_AUDIT_ERROR_AFTER_HOURS = 48
    httpserver.expect_request("/services/T000/B000/slack", method="POST").respond_with_data("ok")
    return httpserver


def _alerts(httpserver) -> list[str]:
    return [json.loads(request.get_data())["text"] for request, _ in httpserver.log]


def _rollups(**ages: timedelta | None) -> None:
    """One bucket per rollup table, ``ages`` (by table name) old; None leaves a table empty."""
    now = timezone.now()
    for table, (model, extra) in ROLLUP_MODELS.items():
        age = ages.get(table, timedelta(minutes=30))
        if age is not None:
            model.objects.create(bucket_start=now - age, messages=3, **extra)


def _gdpr_entry(age: timedelta) -> None:
    GdprAuditLog.objects.create(
        action="export",
        subject_reference="cust_1",
        actor="privacy-bot",
        created_at=timezone.now() - age,
    )


def _run(command: str) -> int:
    try:
        call_command(command)
    except CommandError as exc:
        return exc.returncode
    return 0


def test_fresh_rollups_pass_without_an_alert(slack, capsys):
    _rollups()

    assert _run("monitor_telemetry_rollups") == 0

    out = capsys.readouterr().out
    assert "chat_telemetry_model_rollups: fresh" in out
    assert "monitor_telemetry_rollups: OK" in out
    assert _alerts(slack) == []


def test_late_rollup_warns_and_still_passes_without_an_alert(slack, capsys):
    _rollups(chat_telemetry_domain_rollups=timedelta(hours=3))

    assert _run("monitor_telemetry_rollups") == 0

    err = capsys.readouterr().err
    assert "warning: chat_telemetry_domain_rollups: late" in err
    assert "warn after 2h" in err
    assert _alerts(slack) == []


def test_stale_rollup_fails_with_one_alert_naming_it_and_since_when(slack, capsys):
    _rollups(chat_telemetry_model_rollups=timedelta(hours=8, minutes=20))
    newest = ChatTelemetryModelRollup.objects.get().bucket_start

    with pytest.raises(
        CommandError, match=r"stale or missing: chat_telemetry_model_rollups$"
    ) as failed:
        call_command("monitor_telemetry_rollups")

    assert failed.value.returncode == EXIT_STALE
    assert "chat_telemetry_model_rollups: stale since" in capsys.readouterr().err
    (alert,) = _alerts(slack)
    assert "monitor_telemetry_rollups" in alert
    assert f"chat_telemetry_model_rollups: stale since {newest:%Y-%m-%d %H:%M} UTC" in alert
    assert "8h 20m ago" in alert
    assert "error after 6h" in alert
    assert "chat_telemetry_rollups:" not in alert
    assert "chat_telemetry_domain_rollups" not in alert


def test_missing_rollups_fail_with_a_single_alert_for_every_table(slack):
    _rollups(
        chat_telemetry_rollups=None,
        chat_telemetry_domain_rollups=None,
        chat_telemetry_model_rollups=timedelta(days=2),
    )

    assert _run("monitor_telemetry_rollups") == EXIT_STALE

    (alert,) = _alerts(slack)
    assert "chat_telemetry_rollups: missing" in alert
    assert "chat_telemetry_domain_rollups: missing" in alert
    assert "chat_telemetry_model_rollups: stale since" in alert
    assert "2d ago" in alert


def test_warnings_ride_along_in_the_alert_of_a_failing_run(slack):
    _rollups(
        chat_telemetry_rollups=timedelta(hours=7), chat_telemetry_domain_rollups=timedelta(hours=4)
    )

    assert _run("monitor_telemetry_rollups") == EXIT_STALE

    (alert,) = _alerts(slack)
    assert "chat_telemetry_rollups: stale since" in alert
    assert "(warning) chat_telemetry_domain_rollups: late" in alert


def test_thresholds_come_from_the_settings(slack):
    _rollups(chat_telemetry_rollups=timedelta(hours=8))

    with override_settings(
        TELEMETRY_ROLLUPS_WARN_AFTER_HOURS=10, TELEMETRY_ROLLUPS_ERROR_AFTER_HOURS=12
    ):
        report = telemetry_rollups_monitor_run()

    assert [check.status for check in report.checks] == [Freshness.FRESH] * 3
    assert report.exit_code == 0


@pytest.mark.parametrize(
    ("age", "exit_code", "status", "alerts"),
    [
        (timedelta(hours=3), 0, Freshness.FRESH, 0),
        (timedelta(hours=30), 0, Freshness.WARN, 0),
        (timedelta(hours=50), EXIT_STALE, Freshness.STALE, 1),
        (None, EXIT_STALE, Freshness.MISSING, 1),
    ],
    ids=["fresh", "warn", "stale", "missing"],
)
def test_gdpr_audit_monitor(slack, age, exit_code, status, alerts):
    if age is not None:
        _gdpr_entry(age)
        _gdpr_entry(age + timedelta(days=3))

    assert _run("monitor_gdpr_audit") == exit_code

    assert gdpr_audit_monitor_run(webhook_url="").checks[0].status is status
    sent = _alerts(slack)
    assert len(sent) == alerts
    if alerts:
        assert "monitor_gdpr_audit" in sent[0]
        assert f"gdpr_audit_log: {status}" in sent[0]


def test_alert_is_retried_once_slack_answers_503(httpserver, settings):
    settings.MONITOR_ALERT_WEBHOOK_URL = httpserver.url_for("/hook")
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")

    report = gdpr_audit_monitor_run()

    assert report.alert.delivered
    assert len(httpserver.log) == 2
    httpserver.check_assertions()


def test_an_alert_that_may_have_been_posted_is_not_sent_again(httpserver, settings):
    """A read timeout or a 500: Slack may have posted it already; one run, one message."""
    settings.MONITOR_ALERT_WEBHOOK_URL = httpserver.url_for("/hook")
    settings.MONITOR_ALERT_TIMEOUT_SECONDS = 0.3

    def slow(request):
        time.sleep(0.6)
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(slow)
    assert not gdpr_audit_monitor_run().alert.delivered
    time.sleep(1.5)  # a retry would have reached the server by now, and been answered
    assert len(httpserver.log) == 1

    httpserver.clear()
    httpserver.expect_request("/hook", method="POST").respond_with_data("oops", status=500)
    assert not gdpr_audit_monitor_run().alert.delivered
    assert len(httpserver.log) == 1


def test_an_undeliverable_alert_never_shows_the_webhook_path(settings, caplog, capsys):
    settings.MONITOR_ALERT_WEBHOOK_URL = "http://127.0.0.1:9/services/T000/B000/XXXXSECRET"
    assert _run("monitor_gdpr_audit") == EXIT_STALE
    said = capsys.readouterr().err + caplog.text
    assert "alert not delivered" in said and "ConnectionError" in said
    assert "XXXXSECRET" not in said and "/services/" not in said


def test_an_alert_slack_refuses_is_reported_and_the_monitor_still_fails(
    httpserver, settings, capsys
):
    settings.MONITOR_ALERT_WEBHOOK_URL = httpserver.url_for("/hook")
    httpserver.expect_request("/hook", method="POST").respond_with_data("no", status=404)

    assert _run("monitor_gdpr_audit") == EXIT_STALE

    assert "alert refused by the webhook: HTTP 404" in capsys.readouterr().err


def test_without_a_webhook_the_monitor_says_so_and_fails(settings, capsys):
    settings.MONITOR_ALERT_WEBHOOK_URL = ""

    assert _run("monitor_telemetry_rollups") == EXIT_STALE

    assert "MONITOR_ALERT_WEBHOOK_URL is not set" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["monitor_telemetry_rollups", "monitor_gdpr_audit"])
def test_a_monitor_that_cannot_reach_the_database_fails_loudly_and_alerts(httpserver, command):
    """A real process against a port nobody listens on: no mocks between it and libpq."""
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/smplat?connect_timeout=5",
        "MONITOR_ALERT_WEBHOOK_URL": httpserver.url_for("/hook"),
    }

    done = subprocess.run(
        [sys.executable, "manage.py", command],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    assert "cannot read the database" in done.stderr
    assert "Connection refused" in done.stderr
    (alert,) = _alerts(httpserver)
    assert command in alert
    assert "cannot read the database" in alert
    assert "smplat on 127.0.0.1" in alert


@pytest.mark.parametrize("command", ["monitor_telemetry_rollups", "monitor_gdpr_audit"])
def test_a_database_without_the_tables_is_missing_not_unreachable(command, tmp_path):
    """The server answers, the tables are not there (never migrated): exit 1, not 2."""
    import psycopg

    from tests.subprocesses import database_url

    name = f"smplat_unmigrated_{os.getpid()}"
    admin_url = database_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        done = subprocess.run(
            [sys.executable, "manage.py", command],
            cwd=BASE_DIR,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DATABASE_URL": database_url(name),
                "MONITOR_ALERT_WEBHOOK_URL": "",
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    assert done.returncode == EXIT_STALE, done.stderr
    assert "tables missing" in done.stderr and "does not exist" in done.stderr


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(seconds=59), "0m"),
        (timedelta(minutes=12), "12m"),
        (timedelta(hours=5), "5h"),
        (timedelta(hours=5, minutes=10), "5h 10m"),
        (timedelta(days=2), "2d"),
        (timedelta(days=2, hours=3, minutes=59), "2d 3h"),
    ],
)
def test_durations_read_at_a_glance(duration, text):
    assert format_duration(duration) == text


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"TELEMETRY_ROLLUPS_WARN_AFTER_HOURS": "8", "TELEMETRY_ROLLUPS_ERROR_AFTER_HOURS": "6"},
            "TELEMETRY_ROLLUPS_WARN_AFTER_HOURS must be above 0 and at most",
        ),
        ({"GDPR_AUDIT_WARN_AFTER_HOURS": "0"}, "GDPR_AUDIT_WARN_AFTER_HOURS must be above 0"),
        ({"GDPR_AUDIT_ERROR_AFTER_HOURS": "two days"}, "GDPR_AUDIT_ERROR_AFTER_HOURS"),
    ],
)
def test_nonsensical_thresholds_fail_loudly_at_startup(variables, message):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **variables}

    done = subprocess.run(
        [sys.executable, "manage.py", "monitor_gdpr_audit"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    assert message in done.stderr
