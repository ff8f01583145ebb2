"""Run history on the operator pages: the card's run list and last result, the run page of
each outcome (real runs through the exporter), webhook attempts, downloads of the newest run
from S3 and file sinks, the card's rewind, and the admin's run list."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils.crypto import get_random_string
from werkzeug import Response

from exports.models import CursorChange, DeliveryAttempt, ExportRun
from exports.services import ExportFailed, export_run
from tests.exports.conftest import BASE_TIME, make_follow_ups

pytestmark = pytest.mark.django_db
FEED = "guardrail_followups"
CARD = f"/admin/reports/cards/{FEED}/"
REWIND = f"/admin/reports/cards/{FEED}/cursor/"
DOWNLOAD = "/api/reporting/guardrail-followups/export"


@pytest.fixture(autouse=True)
def quiet_settings(settings, tmp_path):
    for name in dir(settings):
        if name.endswith(("_STATUS_URL", "_STATUS_S3_URI", "_WORKFLOW_URL", "_TRIGGER_URL")):
            setattr(settings, name, "")
        if name.endswith("_SLACK_WEBHOOK"):
            setattr(settings, name, "")
    settings.GITHUB_RUN_ID = ""
    settings.EXPORT_SAFETY_LAG_SECONDS = 0
    settings.EXPORT_RETRY_BACKOFF_SECONDS = 0.01
    settings.EXPORT_RETRY_ATTEMPTS = 3
    settings.GUARDRAIL_EXPORT_CURSOR_PATH = str(tmp_path / "cursor.json")
    settings.GUARDRAIL_EXPORT_CURSOR_S3_URI = ""
    settings.EXPORT_FILES_ROOT = str(tmp_path / "exports")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def file_sink(settings, tmp_path):
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "exports" / "followups.ndjson")
    return tmp_path / "exports" / "followups.ndjson"


def _client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    return client, token


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_each_outcome_has_a_run_in_the_card_list_and_a_readable_page(
    alice, file_sink, httpserver, settings
):
    make_follow_ups(160)
    succeeded = export_run(feed=FEED, requested_by=alice)
    no_data = export_run(feed=FEED)
    settings.GUARDRAIL_EXPORT_SINK = "webhook"
    settings.ANALYTICS_GUARDRAIL_WEBHOOK = httpserver.url_for("/hooks/secret-path-token")
    httpserver.expect_request("/hooks/secret-path-token").respond_with_data("no", status=400)
    make_follow_ups(3, start=BASE_TIME + timedelta(hours=1))
    with pytest.raises(ExportFailed):
        export_run(feed=FEED)
    failed = ExportRun.objects.get(outcome="failed")
    client, _ = _client(alice)

    card = _text(client.get(CARD))
    assert re.search(rf"Run #{failed.pk}</a> failed in \d+\.\d s", card)
    for run in (succeeded, no_data, failed):
        assert f'href="/admin/reports/runs/{run.pk}/"' in card
    assert "outcome-succeeded" in card and "outcome-no_data" in card and "outcome-failed" in card
    assert "alice" in card  # who asked for the first run

    page = _text(client.get(f"/admin/reports/runs/{succeeded.pk}/"))
    assert "Succeeded" in page and "160" in page and "Manual" in page and "alice" in page
    assert succeeded.started_at.strftime("%Y-%m-%d %H:%M:%S UTC") in page
    assert "/s" in page and str(file_sink) in page and succeeded.cursor_after in page
    page = _text(client.get(f"/admin/reports/runs/{no_data.pk}/"))
    assert "No new data" in page and succeeded.cursor_after in page
    page = _text(client.get(f"/admin/reports/runs/{failed.pk}/"))
    assert "Failed" in page and "400" in page and "webhook" in page
    assert "secret-path-token" not in page  # the destination and error are redacted
    assert f"http://localhost:{httpserver.port}/..." in page or "127.0.0.1" in page


def test_the_card_says_how_the_newest_run_ended(alice, file_sink):
    make_follow_ups(160)
    run = export_run(feed=FEED, requested_by=alice)
    client, _ = _client(alice)
    card = _text(client.get(CARD))
    assert re.search(rf"Run #{run.pk}</a> succeeded, 160 rows in \d+\.\d s", card)


@pytest.mark.parametrize("feed", ["nonexistent", "quick_order_telemetry"])
def test_the_cursor_page_of_a_feed_without_a_cursor_is_a_404(alice, feed):
    response = _client(alice)[0].get(f"/admin/reports/cards/{feed}/cursor/")
    assert response.status_code == 404


def test_a_snapshot_run_page_names_its_object_not_a_cursor(alice):
    run = ExportRun.objects.create(
        feed="quick_order_telemetry",
        outcome="succeeded",
        rows=12,
        sink="s3",
        cursor_after="s3://exports/quick-order/2026/12/01/20261201T103000Z.ndjson",
    )
    page = _text(_client(alice)[0].get(f"/admin/reports/runs/{run.pk}/"))
    assert "Snapshot" in page and run.cursor_after in page
    assert "Cursor before" not in page and "(the beginning)" not in page


def test_a_run_of_one_row_says_one_row(alice, file_sink):
    make_follow_ups(1)
    run = export_run(feed=FEED)
    card = _text(_client(alice)[0].get(CARD))
    assert re.search(rf"Run #{run.pk}</a> succeeded, 1 row in", card) and "1 rows" not in card


def test_a_webhook_batch_refused_twice_then_accepted_shows_three_attempts(
    alice, httpserver, settings
):
    settings.GUARDRAIL_EXPORT_SINK = "webhook"
    settings.ANALYTICS_GUARDRAIL_WEBHOOK = httpserver.url_for("/hook")
    answers = iter([Response("busy", 503), Response("busy", 503), Response("ok", 200)])
    httpserver.expect_request("/hook").respond_with_handler(lambda request: next(answers))
    make_follow_ups(5)
    run = export_run(feed=FEED)
    client, _ = _client(alice)

    page = _text(client.get(f"/admin/reports/runs/{run.pk}/"))

    attempts = list(DeliveryAttempt.objects.filter(run=run))
    assert [(a.batch, a.attempt, a.status) for a in attempts] == [
        (1, 1, 503),
        (1, 2, 503),
        (1, 3, 200),
    ]
    webhook_id = httpserver.log[0][0].headers["webhook-id"]
    assert page.count(webhook_id) == 3
    assert page.count("HTTP 503") == 2 and page.count("HTTP 200") == 1
    assert re.search(r"\d+ ms", page)


def test_attempts_are_kept_for_the_newest_runs_only(alice, httpserver, settings):
    settings.GUARDRAIL_EXPORT_SINK = "webhook"
    settings.ANALYTICS_GUARDRAIL_WEBHOOK = httpserver.url_for("/hook")
    settings.EXPORT_ATTEMPT_RUNS_KEPT = 2
    httpserver.expect_request("/hook").respond_with_data("ok")
    runs = []
    for hour in range(3):
        make_follow_ups(1, start=BASE_TIME + timedelta(hours=hour))
        runs.append(export_run(feed=FEED))
    assert set(DeliveryAttempt.objects.values_list("run_id", flat=True)) == {
        runs[1].pk,
        runs[2].pk,
    }


def test_the_run_page_costs_a_fixed_number_of_queries(
    alice, httpserver, settings, django_assert_num_queries
):
    settings.GUARDRAIL_EXPORT_SINK = "webhook"
    settings.ANALYTICS_GUARDRAIL_WEBHOOK = httpserver.url_for("/hook")
    settings.EXPORT_BATCH_SIZE = 2
    httpserver.expect_request("/hook").respond_with_data("ok")
    make_follow_ups(8)
    run = export_run(feed=FEED, requested_by=alice)
    client, _ = _client(alice)
    client.get(f"/admin/reports/runs/{run.pk}/")
    # session, user, run with its requester, attempts, cursor changes
    with django_assert_num_queries(5):
        response = client.get(f"/admin/reports/runs/{run.pk}/")
    assert response.status_code == 200 and run.attempts.count() == 4


def test_run_pages_are_for_staff_who_may_read_runs(alice, bob, charlie, file_sink):
    make_follow_ups(1)
    run = export_run(feed=FEED)
    url = f"/admin/reports/runs/{run.pk}/"
    assert _client(bob)[0].get(url).status_code == 403
    assert _client(charlie)[0].get(url).status_code == 302  # to the admin login
    assert Client().get(url).status_code == 302
    assert _client(alice)[0].get("/admin/reports/runs/999999/").status_code == 404


def test_the_s3_download_is_the_whole_newest_run_in_order(alice, settings, s3):
    settings.GUARDRAIL_EXPORT_SINK = "s3"
    settings.GUARDRAIL_EXPORT_S3_URI = f"s3://{s3.bucket}/exports"
    settings.EXPORT_BATCH_SIZE = 100
    rows = make_follow_ups(166)
    run = export_run(feed=FEED)
    assert len(run.artifacts) == 2  # 100 + 66 rows
    client, _ = _client(alice)

    response = client.get(DOWNLOAD)

    assert response.status_code == 200
    assert f'filename="guardrail-followups-run-{run.pk}.ndjson"' in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    ids = [json.loads(line)["followUpId"] for line in lines]
    assert ids == [str(r.id) for r in sorted(rows, key=lambda r: (r.created_at, r.id))]


def test_the_file_download_is_the_newest_runs_lines_of_the_sinks_file(alice, file_sink):
    """The file sink appends: the run named in the download's name is all it holds (it held
    every run's rows, 321 lines for a run of 1)."""
    make_follow_ups(7)
    export_run(feed=FEED)
    newest = make_follow_ups(1, start=BASE_TIME + timedelta(hours=1))
    run = export_run(feed=FEED)
    client, _ = _client(alice)
    card = client.get(CARD).content.decode()
    assert "Download latest NDJSON" in card

    response = client.get(DOWNLOAD)

    assert response.status_code == 200
    assert f"run-{run.pk}.ndjson" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert [json.loads(line)["followUpId"] for line in body.splitlines()] == [str(newest[0].id)]
    assert file_sink.read_bytes().endswith(body) and len(file_sink.read_bytes().splitlines()) == 8
    assert int(response["Content-Length"]) == len(body)


def test_a_file_rotated_since_the_run_is_not_served_as_its_rows(alice, file_sink):
    make_follow_ups(3)
    export_run(feed=FEED)
    file_sink.write_bytes(b'{"other": 1}\n')  # logrotate, or someone, replaced it
    client, _ = _client(alice)
    response = client.get(DOWNLOAD)
    assert response.status_code == 404
    assert "no longer holds its rows" in response.json()["error"]["message"]


def test_a_file_outside_the_export_folder_is_not_served(alice, settings, tmp_path):
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "elsewhere" / "followups.ndjson")
    make_follow_ups(3)
    export_run(feed=FEED)
    client, _ = _client(alice)
    response = client.get(DOWNLOAD)
    assert response.status_code == 404
    assert "outside EXPORT_FILES_ROOT" in response.json()["error"]["message"]


def test_rewind_from_the_card_previews_then_applies_and_shows_in_the_history(alice, file_sink):
    rows = sorted(make_follow_ups(12, per_timestamp=2), key=lambda r: (r.created_at, r.id))
    export_run(feed=FEED)
    client, token = _client(alice)
    since = rows[4].created_at.strftime("%Y-%m-%d %H:%M:%S")

    preview = client.get(REWIND, {"since": since, "reason": "warehouse lost it"})
    assert preview.status_code == 200
    assert 'data-rows-to-resend="8"' in preview.content.decode()
    form = dict(
        re.findall(
            r'name="(target|expected_from|reason)" value="([^"]*)"', preview.content.decode()
        )
    )
    applied = client.post(REWIND, {**form, "csrfmiddlewaretoken": token})
    page = client.get("/admin/reports/").content.decode()  # where the redirect lands
    card = page[page.index(f'id="card-{FEED}"') :]
    card = card[: card.index("</article>")]
    assert "card-message" in card and "cursor moved to" in card  # said in the card
    assert "cursor moved to" not in page[: page.index(f'id="card-{FEED}"')]
    again = client.post(REWIND, {**form, "csrfmiddlewaretoken": token})  # the double submit

    assert applied.status_code == 302
    assert again.status_code == 409 and "nothing changed, preview again" in again.content.decode()
    change = CursorChange.objects.get()
    assert (change.actor, change.rows_to_resend, change.via) == ("alice", 8, "card")
    card = client.get(CARD).content.decode()  # the card's cursor is the one the next run reads
    cursor = card[card.index('class="cursor"') :]
    assert cursor[: cursor.index("</dd>")].endswith(f"<code>{form['target']}</code>")
    run = export_run(feed=FEED)
    assert run.rows == 8
    card = _text(client.get(CARD))
    assert "warehouse lost it" in card and f"run #{run.pk}" in card
    page = _text(client.get(f"/admin/reports/runs/{run.pk}/"))
    assert "Cursor moved by hand before this run" in page and "warehouse lost it" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "last tuesday", "reason": "x"}, "is not a time"),
        ({"since": "2999-01-01 00:00", "reason": "x"}, "in the future"),
        ({"since": "", "reason": "x"}, "Give a time"),
        ({"since": "2026-01-01", "beginning": "1", "reason": "x"}, "Give a time"),
        ({"beginning": "1"}, "required"),
    ],
)
def test_bad_rewind_input_is_a_clear_400_and_changes_nothing(alice, file_sink, query, message):
    make_follow_ups(3)
    export_run(feed=FEED)
    before = json.loads((file_sink.parent.parent / "cursor.json").read_text())["cursor"]
    response = _client(alice)[0].get(REWIND, query)
    assert response.status_code == 400 and message in response.content.decode()
    assert not CursorChange.objects.exists()
    assert json.loads((file_sink.parent.parent / "cursor.json").read_text())["cursor"] == before


def test_rewind_needs_the_permission_and_csrf(alice, bob, file_sink):
    make_follow_ups(1)
    export_run(feed=FEED)
    assert _client(bob)[0].get(REWIND, {"beginning": "1", "reason": "x"}).status_code == 403
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(REWIND, {"target": "", "reason": "x"}).status_code == 403
    assert not CursorChange.objects.exists()
    card = _client(bob)[0]
    bob.user_permissions.add(*_perms("view_exportrun", "view_guardrailfollowup"))
    assert "Rewind or backfill" not in card.get(CARD).content.decode()
    assert "Rewind or backfill" in _client(alice)[0].get(CARD).content.decode()


def _perms(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(codename__in=codenames)


def test_the_admin_run_list_shows_outcome_duration_error_and_utc(alice, file_sink):
    make_follow_ups(2)
    run = export_run(feed=FEED)
    client, _ = _client(alice)
    listing = _text(client.get("/admin/exports/exportrun/"))
    assert "Took" in listing and "Error" in listing and "Created (UTC)" in listing
    assert "background:#2e9a5b" in listing
    assert run.created_at.strftime("%Y-%m-%d %H:%M:%S") in listing
    detail = _text(client.get(f"/admin/exports/exportrun/{run.pk}/change/"))
    assert run.started_at.strftime("%Y-%m-%d %H:%M:%S UTC") in detail
    assert f"/admin/reports/runs/{run.pk}/" in detail
