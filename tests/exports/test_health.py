"""Export health (exports/health.py): one state per feed, the same on the card, the badge and
in monitor_exports; one Slack alert per flip; rows behind; drift; abandoned runs; badges."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone
from werkzeug import Response

from exports import registry
from exports.health import health_check
from exports.locks import feed_lock
from exports.models import ExportRun, Feed, FeedFlip, FeedState
from exports.services import ExportFailed, export_run
from telemetry.models import QuickOrderEvent
from tests.exports.conftest import make_follow_ups

pytestmark = pytest.mark.django_db
PAGE = "/admin/reports/"
FEED = Feed.GUARDRAIL_FOLLOWUPS


@pytest.fixture(autouse=True)
def quiet_feeds(settings, tmp_path):
    """Nothing alerts, no status source, a file sink in a temporary folder."""
    for name in dir(django_settings):
        if name.endswith(("_STATUS_URL", "_STATUS_S3_URI", "_TRIGGER_URL")):
            setattr(settings, name, "")
    settings.EXPORT_ALERT_WEBHOOK_URL = ""
    settings.MONITOR_ALERT_WEBHOOK_URL = ""
    settings.SITE_URL = "https://reports.example.com"
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "out" / "guardrail.ndjson")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def slack(httpserver, settings):
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    settings.EXPORT_ALERT_WEBHOOK_URL = httpserver.url_for("/slack")
    return httpserver


def alerts(server) -> list[str]:
    return [json.loads(request.data)["text"] for request, _ in server.log]


def run(feed=FEED, *, outcome="succeeded", minutes_ago=5, rows=3, error="", cursor_after=None):
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    return ExportRun.objects.create(
        feed=feed,
        outcome=outcome,
        rows=rows,
        error=error,
        cursor_after=cursor_after,
        created_at=moment,
        started_at=moment,
        finished_at=None if outcome in ("running", "queued") else moment,
    )


def monitor() -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("monitor_exports", stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, out.getvalue() + err.getvalue()


def card_html(client, feed=FEED) -> str:
    html = client.get(PAGE).content.decode()
    start = html.index(f'id="card-{feed}"')
    return html[start : html.index("</article>", start)]


def badge_json(client, feed=FEED) -> dict:
    key = FeedState.objects.get(feed=feed).badge_key
    response = client.get(f"/badges/{key}.json")
    assert response.status_code == 200
    return response.json()


# -- every state, everywhere -------------------------------------------------------------------
def _stuck():
    rows = make_follow_ups(3, start=timezone.now() - timedelta(hours=2))
    first = sorted(rows, key=lambda r: (r.created_at, r.id))[0]
    # The cursor sits before the rows, and the newest run still exported nothing.
    run(
        rows=0,
        outcome="no_data",
        cursor_after=f"{(first.created_at - timedelta(seconds=1)).isoformat()}",
    )


SCENARIOS = {
    "never": lambda: None,
    "running": lambda: run(outcome="running", minutes_ago=1),
    "fresh": lambda: run(minutes_ago=30),
    "late": lambda: run(minutes_ago=100),
    "stale": lambda: run(minutes_ago=200),
    "failing": lambda: run(outcome="failed", minutes_ago=5, error="disk full"),
    "stuck": _stuck,
}


@pytest.mark.parametrize("state", list(SCENARIOS))
def test_each_state_shows_on_the_card_the_badge_and_in_the_monitor(client, alice, state):
    if state == "running":
        # A live exporter holds the feed's lock in another connection.
        holder = threading.Event()
        release = threading.Event()

        def hold():
            with feed_lock(FEED):
                holder.set()
                release.wait(10)
            connections.close_all()

        thread = threading.Thread(target=hold)
        thread.start()
        holder.wait(5)
    try:
        SCENARIOS[state]()
        client.force_login(alice)
        card = card_html(client)
        assert f'data-state="{state}"' in card and f"state-{state}" in card
        assert "<h3>Guardrail export health</h3>" in card
        assert badge_json(client)["state"] == state
        code, output = monitor()
        assert f"guardrail_followups: {state}" in output
        assert code == (1 if state in ("stale", "failing", "stuck") else 0)
    finally:
        if state == "running":
            release.set()
            thread.join()


def test_a_fresh_feed_is_fresh_since_it_became_fresh_not_since_its_newest_sync(client, alice):
    run(minutes_ago=50)
    assert monitor()[0] == 0  # recorded: fresh since then
    became = FeedState.objects.get(feed=FEED).since
    run(minutes_ago=5)  # another good run: still the same fresh spell
    client.force_login(alice)
    assert badge_json(client)["since"] == became.isoformat().replace("+00:00", "Z")
    assert f'datetime="{became.isoformat()}"' in card_html(client)


def test_a_fresh_spell_begins_after_the_last_silence_or_failure(client, alice):
    """Fresh since the run that ended the last gap longer than schedule plus grace."""
    run(minutes_ago=400)
    after_silence = run(minutes_ago=200)  # 200 min after the one before: the spell starts here
    run(minutes_ago=140)
    run(minutes_ago=80)
    run(minutes_ago=20)
    client.force_login(alice)
    assert badge_json(client)["since"] == after_silence.finished_at.isoformat().replace(
        "+00:00", "Z"
    )
    failed = run(outcome="failed", minutes_ago=10, error="x")
    newest = run(minutes_ago=1)
    assert failed.finished_at < newest.finished_at
    assert badge_json(client)["since"] == newest.finished_at.isoformat().replace("+00:00", "Z")


def test_a_failing_sink_is_failing_not_fresh(client, alice, tmp_path, settings):
    """The issue's case: the file path became a directory; the card must not say fresh."""
    make_follow_ups(2)
    export_run(feed=FEED, trigger="schedule")
    Path(settings.GUARDRAIL_EXPORT_FILE_PATH).unlink()
    Path(settings.GUARDRAIL_EXPORT_FILE_PATH).mkdir()
    make_follow_ups(1, start=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ExportFailed):
        export_run(feed=FEED, trigger="schedule")
    client.force_login(alice)
    card = card_html(client)
    assert "badge-failing" in card and "badge-fresh" not in card and "Last error" in card


# -- alerts on flips ------------------------------------------------------------------------------
def test_exactly_one_alert_per_flip_over_a_scripted_sequence(slack, settings):
    make_follow_ups(2)
    path = Path(settings.GUARDRAIL_EXPORT_FILE_PATH)

    export_run(feed=FEED, trigger="schedule")  # fresh: nothing to say
    assert monitor()[0] == 0 and alerts(slack) == []

    path.unlink()
    path.mkdir()  # the sink breaks
    with pytest.raises(ExportFailed):
        export_run(feed=FEED, trigger="schedule")
    assert len(alerts(slack)) == 1  # the run's end alerted, without waiting for the monitor
    assert "Guardrail export health: failing" in alerts(slack)[0]
    assert "Last error:" in alerts(slack)[0]
    assert "https://reports.example.com/admin/reports/#card-guardrail_followups" in alerts(slack)[0]

    assert monitor()[0] == 1  # still down: no repeat
    with pytest.raises(ExportFailed):
        export_run(feed=FEED, trigger="schedule")
    assert monitor()[0] == 1
    assert len(alerts(slack)) == 1

    path.rmdir()  # fixed
    export_run(feed=FEED, trigger="schedule")
    assert len(alerts(slack)) == 2 and "recovered: fresh (was failing)" in alerts(slack)[1]
    assert monitor()[0] == 0 and len(alerts(slack)) == 2

    path.unlink()
    path.mkdir()  # down again
    with pytest.raises(ExportFailed):
        export_run(feed=FEED, trigger="schedule")
    assert monitor()[0] == 1
    assert len(alerts(slack)) == 3
    flips = list(FeedFlip.objects.filter(feed=FEED).order_by("at", "id"))
    assert [(f.from_state, f.to_state) for f in flips] == [
        ("never", "fresh"),
        ("fresh", "failing"),
        ("failing", "fresh"),
        ("fresh", "failing"),
    ]


def test_the_monitor_alerts_a_feed_that_stopped_running(slack):
    run(minutes_ago=30)
    assert monitor()[0] == 0
    with time_machine.travel(timezone.now() + timedelta(hours=4)):
        code, output = monitor()
        assert code == 1 and "guardrail_followups: stale" in output
        assert monitor()[0] == 1
    (alert,) = alerts(slack)
    assert "Guardrail export health: stale since" in alert


def test_a_late_feed_warns_once_then_alerts_stale_then_recovers(slack, settings):
    """Every change of state is one message (SPEC §8): late warns, stale alerts, a run recovers."""
    settings.GUARDRAIL_EXPORT_SCHEDULE_MINUTES = 60
    settings.EXPORT_FRESHNESS_GRACE_MINUTES = 15
    run(minutes_ago=30)
    assert monitor()[0] == 0 and alerts(slack) == []
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=60)):  # 90 min since the sync: late
        code, output = monitor()
        assert code == 0 and "guardrail_followups: late" in output
        assert len(alerts(slack)) == 1
        assert alerts(slack)[0].startswith(":warning: Guardrail export health: late since")
    with time_machine.travel(start + timedelta(minutes=80)):  # still late: nothing new
        assert monitor()[0] == 0 and len(alerts(slack)) == 1
    with time_machine.travel(start + timedelta(minutes=160)):  # past 3 schedules: stale
        assert monitor()[0] == 1 and monitor()[0] == 1
        assert len(alerts(slack)) == 2
        assert alerts(slack)[1].startswith(":rotating_light: Guardrail export health: stale")
        run(minutes_ago=1)  # the export runs again
        assert monitor()[0] == 0
    assert len(alerts(slack)) == 3 and "recovered: fresh (was stale)" in alerts(slack)[2]
    assert [(f.from_state, f.to_state) for f in FeedFlip.objects.order_by("id")] == [
        ("never", "fresh"),
        ("fresh", "late"),
        ("late", "stale"),
        ("stale", "fresh"),
    ]


@pytest.mark.django_db(transaction=True)
def test_two_monitors_started_together_send_one_alert(slack):
    run(outcome="failed", error="boom")
    barrier = threading.Barrier(4)
    codes = []

    def look():
        barrier.wait()
        try:
            codes.append(monitor()[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=look) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [1, 1, 1, 1]
    assert len(alerts(slack)) == 1
    assert FeedFlip.objects.filter(feed=FEED, to_state="failing").count() == 1


def test_a_slack_that_times_out_after_receiving_is_not_posted_to_again(httpserver, settings):
    def slow(request):
        time.sleep(1.5)
        return Response("ok")

    httpserver.expect_request("/slack", method="POST").respond_with_handler(slow)
    settings.EXPORT_ALERT_WEBHOOK_URL = httpserver.url_for("/slack")
    settings.MONITOR_ALERT_TIMEOUT_SECONDS = 0.5
    run(outcome="failed", error="boom")
    code, output = monitor()
    assert code == 1 and "not delivered" in output
    assert monitor()[0] == 1
    time.sleep(1.5)
    assert len(httpserver.log) == 1
    assert "not delivered" in FeedFlip.objects.get(feed=FEED, to_state="failing").alert


def test_an_unreachable_slack_is_reported_and_the_state_still_recorded(settings):
    settings.EXPORT_ALERT_WEBHOOK_URL = "http://127.0.0.1:9/slack"
    run(outcome="failed", error="boom")
    code, output = monitor()
    assert code == 1 and "not delivered" in output
    assert FeedState.objects.get(feed=FEED).state == "failing"


def test_monitor_alert_webhook_is_the_fallback(httpserver, settings):
    httpserver.expect_request("/monitor", method="POST").respond_with_data("ok")
    settings.MONITOR_ALERT_WEBHOOK_URL = httpserver.url_for("/monitor")
    run(outcome="failed", error="boom")
    monitor()
    assert len(httpserver.log) == 1


def test_a_database_without_runs_is_all_never_and_exit_0():
    code, output = monitor()
    assert code == 0
    assert "guardrail_followups: never (no run yet" in output
    # Its settings are incomplete here: the state says which variable is missing.
    assert "QUICK_ORDER_EXPORT_URL and QUICK_ORDER_EXPORT_BUCKET are not set here" in output


def test_the_monitor_judges_every_feed_the_hand_run_ones_without_a_schedule(slack):
    """SPEC §8: every feed; offer events and the via-API copy were never looked at."""
    run(Feed.OFFER_EVENTS, minutes_ago=60 * 24 * 30, rows=5)  # a month ago: run by hand
    run(Feed.ONBOARDING_PRICING_SEGMENTS_VIA_API, outcome="failed", error="API said 503")
    code, output = monitor()
    names = [line.split(":")[0] for line in output.splitlines() if not line.startswith(" ")]
    assert set(names) >= set(Feed.values)
    assert "offer_events: fresh" in output and "no schedule" in output  # never late
    assert "onboarding_pricing_segments_via_api: failing" in output and code == 1
    (alert,) = alerts(slack)
    assert "Onboarding pricing segments (via API)" in alert and "API said 503" in alert
    assert "/admin/exports/exportrun/?feed__exact=onboarding_pricing_segments_via_api" in alert


def test_a_monitor_that_cannot_reach_the_database_exits_2():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/smplat?connect_timeout=5",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "monitor_exports"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "cannot read the database" in done.stderr


def test_settings_that_do_not_load_make_the_feed_failing_and_say_which(settings):
    settings.GUARDRAIL_EXPORT_SINK = "carrier-pigeon"
    check = health_check(registry.feed(FEED))
    assert check.health.state == "failing"
    assert "GUARDRAIL_EXPORT_SINK" in check.health.reason


# -- rows behind ------------------------------------------------------------------------------------
def test_rows_behind_is_exact_below_the_cap_and_capped_above(client, alice, settings):
    settings.EXPORT_ROWS_BEHIND_CAP = 5
    rows = sorted(make_follow_ups(9), key=lambda r: (r.created_at, r.id))
    cursor = f"{rows[4].created_at.isoformat()}~{rows[4].id}"
    run(cursor_after=cursor)  # 4 rows after it
    assert badge_json(client)["rowsBehind"] == 4
    run(cursor_after=f"{rows[0].created_at.isoformat()}~{rows[0].id}", minutes_ago=1)  # 8 after
    assert badge_json(client)["rowsBehind"] == "5+"
    client.force_login(alice)
    assert "5+ rows" in card_html(client)


def test_rows_behind_reads_the_feeds_cursor_store_first(client, settings):
    rows = sorted(make_follow_ups(6), key=lambda r: (r.created_at, r.id))
    run(cursor_after=None)
    store = Path(settings.GUARDRAIL_EXPORT_CURSOR_PATH)
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(
        json.dumps({"cursor": f"{rows[3].created_at.isoformat()}~{rows[3].id}", "rows": 4})
    )
    assert badge_json(client)["rowsBehind"] == 2


# -- drift --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("local_starts", "flagged"), [(1051, True), (1049, False)])
def test_quick_order_drift_is_flagged_above_5_percent(
    client, alice, httpserver, settings, local_starts, flagged
):
    QuickOrderEvent.objects.all().delete()
    QuickOrderEvent.objects.bulk_create(
        QuickOrderEvent(event_name="quick_order.start", product_id="p", product_title="P")
        for _ in range(local_starts)
    )
    synced = timezone.now() - timedelta(minutes=2)
    httpserver.expect_request("/qo.json").respond_with_json(
        {
            "syncedAt": synced.isoformat(),
            "events": 1000,
            "metrics": {
                "startCount": 1000,
                "abortCount": 0,
                "completeCount": 0,
                "completionRate": 0.0,
            },
        }
    )
    # The status server on loopback, trusted by its exact origin (exports/safe_http.py).
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    settings.QUICK_ORDER_EXPORT_STATUS_URL = httpserver.url_for("/qo.json")
    run(Feed.QUICK_ORDER_TELEMETRY, minutes_ago=2, rows=1000)
    code, output = monitor()
    line = next(line for line in output.splitlines() if line.startswith("quick_order_telemetry"))
    if flagged:
        assert "failing" in line and "startCount 1051 local vs 1000 exported (5.1%)" in line
        assert code == 1
    else:
        assert "fresh" in line and code == 0
    client.force_login(alice)
    assert ("badge-failing" in card_html(client, Feed.QUICK_ORDER_TELEMETRY)) is flagged


HOSTILE_PAYLOADS = {
    "last-year-of-the-calendar": b'{"syncedAt": "9999-12-31T23:59:59Z", "events": 1, "metrics": {}}',
    "first-day-east-of-utc": b'{"syncedAt": "0001-01-01T00:00:00+14:00", "events": 1}',
    "next-week": json.dumps(
        {"syncedAt": (timezone.now() + timedelta(days=7)).isoformat(), "events": 1}
    ).encode(),
    "nested-deeper-than-the-parser": b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "numbers-past-float": (
        b'{"syncedAt": "2026-01-01T00:00:00Z", "events": 1e400, "metrics": {"startCount": '
        + b"9" * 400
        + b', "abortCount": NaN, "completeCount": Infinity, "completionRate": -Infinity}}'
    ),
    "wrong-types": b'{"syncedAt": 5, "events": "many", "metrics": [1, 2], "downloadUrl": {}}',
}


@pytest.mark.parametrize("payload", list(HOSTILE_PAYLOADS.values()), ids=list(HOSTILE_PAYLOADS))
def test_a_hostile_status_payload_breaks_no_page_badge_proxy_or_monitor(
    client, alice, settings, tmp_path, payload
):
    """Whoever can write the status file cannot make a 500 or stop the monitor (SPEC §3)."""
    status = tmp_path / "qo.json"
    status.write_bytes(payload)
    settings.QUICK_ORDER_EXPORT_STATUS_URL = str(status)
    run(Feed.QUICK_ORDER_TELEMETRY, minutes_ago=200, rows=3)  # stale by its runs

    code, output = monitor()

    # Judged by its runs (or, for numbers that parse, by their drift from the local window).
    assert code == 1
    assert re.search(r"^quick_order_telemetry: (stale|failing)", output, re.MULTILINE)
    assert "guardrail_followups: never" in output  # and the other feeds were judged too
    client.force_login(alice)
    assert client.get(PAGE).status_code == 200
    assert client.get(f"/admin/reports/cards/{Feed.QUICK_ORDER_TELEMETRY}/").status_code == 200
    assert badge_json(client, Feed.QUICK_ORDER_TELEMETRY)["state"] in ("stale", "failing")
    key = FeedState.objects.get(feed=Feed.QUICK_ORDER_TELEMETRY).badge_key
    assert client.get(f"/badges/{key}.svg").status_code == 200
    assert client.get("/api/reporting/quick-order-export").status_code in (404, 502)


# -- abandoned runs ------------------------------------------------------------------------------
def test_a_killed_run_is_recorded_as_abandoned_and_counts_as_failing(client, alice):
    killed = run(outcome="running", minutes_ago=10)  # nobody holds the lock: its process died
    client.force_login(alice)
    card = card_html(client)
    assert "data-in-flight" not in card and "badge-failing" in card
    killed.refresh_from_db()
    assert killed.outcome == "failed" and killed.finished_at is not None
    assert "Abandoned" in killed.error
    response = client.get(f"/admin/reports/cards/{FEED}/")
    assert response["X-Feed-State"] == "failing"
    # How long it ran is not known: not the 10 minutes until it was noticed.
    assert killed.duration_seconds is None
    assert "failed (noticed" in response.content.decode() and " in 10 min" not in card


def test_a_run_that_died_is_recorded_and_alerted_by_the_look_that_closes_it(client, alice, slack):
    """The page closed the dead run and showed failing; the next run succeeded before the
    monitor looked, so the failure was never recorded and never alerted."""
    run(minutes_ago=20)
    assert monitor()[0] == 0  # fresh, recorded
    run(outcome="running", minutes_ago=10)  # its process died
    client.force_login(alice)
    assert "badge-failing" in card_html(client)  # the look that closes it

    flip = FeedFlip.objects.order_by("id").last()
    assert (flip.from_state, flip.to_state) == ("fresh", "failing")
    # The page did not wait on Slack: the alert is the task worker's.
    assert alerts(slack) == [] and "queued for the task worker" in flip.alert
    from django_tasks_db.models import DBTaskResult

    (queued,) = DBTaskResult.objects.filter(task_path="exports.alerts.flip_alert_send")
    queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])  # the worker
    (alert,) = alerts(slack)
    assert "Guardrail export health: failing" in alert and "Abandoned" in alert
    flip.refresh_from_db()
    assert flip.alert == "alert sent to EXPORT_ALERT_WEBHOOK_URL"
    assert "badge-failing" in card_html(client) and len(alerts(slack)) == 1  # once


# -- badges -----------------------------------------------------------------------------------------
def test_badges_need_their_key(client):
    run(minutes_ago=10)
    key = FeedState.objects.get(feed=FEED).badge_key
    assert client.get("/badges/" + "x" * 32 + ".svg").status_code == 404
    assert client.get("/badges/" + "x" * 32 + ".json").status_code == 404
    svg = client.get(f"/badges/{key}.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert ">fresh</text>" in svg.content.decode()
    assert "Guardrail" not in svg.content.decode()  # nothing but the state
    body = client.get(f"/badges/{key}.json").json()
    assert set(body) == {"feed", "state", "since", "rowsBehind", "lastSync"}


def test_staff_see_the_badge_urls_and_rotating_needs_csrf_and_permission(client, alice, bob):
    from django.contrib.auth.models import Permission
    from django.test import Client

    old = FeedState.objects.get(feed=FEED).badge_key
    client.force_login(alice)
    assert f"https://reports.example.com/badges/{old}.svg" in card_html(client)

    bob.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_exportrun", "view_guardrailfollowup"])
    )
    bobs = Client()
    bobs.force_login(bob)
    assert bobs.post(f"/admin/reports/cards/{FEED}/badge-key/").status_code == 403

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(f"/admin/reports/cards/{FEED}/badge-key/").status_code == 403
    assert FeedState.objects.get(feed=FEED).badge_key == old

    assert client.post(f"/admin/reports/cards/{FEED}/badge-key/").status_code == 302
    new = FeedState.objects.get(feed=FEED).badge_key
    assert new != old and len(new) >= 32
    assert client.get(f"/badges/{old}.svg").status_code == 404
    assert client.get(f"/badges/{new}.svg").status_code == 200


def test_without_site_url_the_badge_urls_use_the_pages_origin(client, alice, settings):
    settings.SITE_URL = ""
    key = FeedState.objects.get(feed=FEED).badge_key
    client.force_login(alice)
    assert f'value="http://testserver/badges/{key}.json"' in card_html(client)


def test_the_card_shows_the_flip_history_and_the_sparkline_legend(client, alice):
    run(outcome="failed", error="boom", minutes_ago=20)
    monitor()
    run(minutes_ago=10)
    monitor()
    client.force_login(alice)
    card = card_html(client)
    assert card.count('class="flip-state flip-failing"') == 2
    assert "rows per run" in card and "failed" in card
