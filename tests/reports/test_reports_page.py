"""/admin/reports/: export-health cards, the funnel comparison, the follow-up timeline."""

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from exports.models import ExportRun, Feed
from reports.models import GuardrailFollowUp
from tests.factories import GuardrailFollowUpFactory

pytestmark = pytest.mark.django_db
URL = "/admin/reports/"


@pytest.fixture(autouse=True)
def no_status_sources(settings):
    """Nothing configured unless a test says so, and no cached status between tests."""
    for name in dir(settings):
        if name.endswith(("_STATUS_URL", "_STATUS_S3_URI", "_WORKFLOW_URL", "_TRIGGER_URL")):
            setattr(settings, name, "")
    settings.GITHUB_RUN_ID = ""
    settings.EXPORT_CARD_STATUS_TIMEOUT_SECONDS = 0.5
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def status_server(httpserver, settings):
    """A status URL on loopback, allowed as an http download origin (as an S3 endpoint is)."""
    settings.EXPORT_PROXY_ALLOWED_HOSTS = [
        f"127.0.0.1:{httpserver.port}",
        f"localhost:{httpserver.port}",
    ]
    return httpserver


def _card(html: str, feed: str) -> str:
    start = html.index(f'id="card-{feed}"')
    return html[start : html.index("</article>", start)]


def test_alice_sees_a_card_per_feed_the_funnel_and_the_timeline(client, alice, settings, tmp_path):
    call_command("seed_dashboard", verbosity=0)
    # Every feed runnable by this site, so every card offers "Run export now".
    settings.GUARDRAIL_EXPORT_SINK = settings.ONBOARDING_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "guardrail.ndjson")
    settings.ONBOARDING_EXPORT_FILE_PATH = str(tmp_path / "segments.ndjson")
    for prefix in ("QUICK_ORDER_EXPORT", "GUARDRAIL_WORKFLOW_EXPORT"):
        setattr(settings, f"{prefix}_URL", "https://site.example/api/telemetry/export")
        setattr(settings, f"{prefix}_BUCKET", "exports")
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for feed in (
        "guardrail_followups",
        "quick_order_telemetry",
        "guardrail_workflow_telemetry",
        "onboarding_pricing_segments",
    ):
        card = _card(html, feed)
        assert "Last sync" in card and "data-run-now" in card and "is off here" not in card
        assert '<svg class="sparkline"' in card  # the seeded run history
    assert "No status URL configured." in html
    assert "Quick-order funnel" in html and 'data-metric="completionRate"' in html
    latest = GuardrailFollowUp.objects.order_by("-created_at", "-id").first()
    assert latest.provider_name in html
    assert 'class="breadcrumbs"' in html and 'id="nav-sidebar"' in html


def test_bob_without_permissions_is_refused(client, bob):
    client.force_login(bob)
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("who", ["charlie", "anonymous"])
def test_non_staff_and_anonymous_go_to_the_login_page(client, charlie, who):
    if who == "charlie":
        client.force_login(charlie)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_admin_index_links_the_operator_pages(client, alice, bob):
    client.force_login(alice)
    page = client.get("/admin/").content.decode()
    assert 'href="/admin/reports/"' in page and "Operator pages" in page
    client.force_login(bob)
    assert 'href="/admin/reports/"' not in client.get("/admin/").content.decode()


def test_a_status_payload_fills_the_card(client, alice, status_server, settings):
    synced = timezone.now() - timedelta(minutes=10)
    status_server.expect_request("/guardrail-status.json").respond_with_json(
        {
            "cursor": "2026-11-22T04:00:00.000000Z~7d9c0a0e-3b4f-4a57-9d1e-0c7f1f7e6a11",
            "rows": 842,
            "updatedAt": synced.isoformat(),
            "downloadUrl": status_server.url_for("/guardrail.ndjson"),
            "workflowUrl": "https://github.com/smplat/smplat/actions/runs/1234567890",
        }
    )
    settings.GUARDRAIL_EXPORT_STATUS_URL = status_server.url_for("/guardrail-status.json")
    client.force_login(alice)
    card = _card(client.get(URL).content.decode(), "guardrail_followups")
    assert "842" in card
    assert "2026-11-22T04:00:00.000000Z~7d9c0a0e" in card
    assert "badge-fresh" in card
    assert "Download latest NDJSON" in card
    assert 'href="https://github.com/smplat/smplat/actions/runs/1234567890"' in card


def test_the_download_button_shows_only_to_staff_who_may_download(
    client, bob, status_server, settings
):
    """Bob may see the page (runs and follow-ups) but not the quick-order events: the
    quick-order card offers him no download that its proxy would refuse."""
    for name, feed in (("GUARDRAIL", "guardrail"), ("QUICK_ORDER", "quick-order")):
        status_server.expect_request(f"/{feed}-status.json").respond_with_json(
            {"downloadUrl": status_server.url_for(f"/{feed}.ndjson"), "rows": 1}
        )
        setattr(
            settings, f"{name}_EXPORT_STATUS_URL", status_server.url_for(f"/{feed}-status.json")
        )
    bob.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_exportrun", "view_guardrailfollowup"])
    )
    client.force_login(bob)
    html = client.get(URL).content.decode()

    assert 'href="/api/reporting/guardrail-followups/export"' in _card(html, "guardrail_followups")
    assert "Download latest NDJSON" not in _card(html, "quick_order_telemetry")
    assert client.get("/api/reporting/quick-order-export").status_code == 403


@pytest.mark.parametrize(
    ("age_minutes", "freshness"),
    [(30, "fresh"), (70, "fresh"), (100, "late"), (200, "stale")],
)
def test_freshness_follows_the_hourly_schedule_with_grace(client, alice, age_minutes, freshness):
    now = timezone.now()
    ExportRun.objects.create(
        feed=Feed.GUARDRAIL_FOLLOWUPS,
        outcome="succeeded",
        rows=3,
        cursor_after="c",
        created_at=now - timedelta(minutes=age_minutes),
        started_at=now - timedelta(minutes=age_minutes),
        finished_at=now - timedelta(minutes=age_minutes),
    )
    client.force_login(alice)
    card = _card(client.get(URL).content.decode(), "guardrail_followups")
    assert f"badge-{freshness}" in card


def test_telemetry_is_late_sooner_on_its_30_minute_schedule(client, alice):
    now = timezone.now() - timedelta(minutes=50)
    ExportRun.objects.create(
        feed=Feed.QUICK_ORDER_TELEMETRY,
        outcome="succeeded",
        rows=5000,
        created_at=now,
        started_at=now,
        finished_at=now,
    )
    client.force_login(alice)
    assert "badge-late" in _card(client.get(URL).content.decode(), "quick_order_telemetry")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("unreachable", "status URL unreachable"),
        ("garbage", "status payload is not JSON"),
        ("not-object", "status payload is not a JSON object"),
        ("server-error", "status URL answered 500"),
        ("slow", "ReadTimeout"),
        ("disallowed-host", "refusing to fetch"),
        ("missing-file", "No status file yet: the next run of this site writes it."),
    ],
)
def test_a_broken_status_url_shows_on_its_card_and_the_page_still_renders(
    client, alice, status_server, settings, setup, message, request
):
    release = threading.Event()
    request.addfinalizer(release.set)
    if setup == "unreachable":
        settings.EXPORT_PROXY_ALLOWED_HOSTS = ["127.0.0.1:9"]  # allowed, and nothing listens
        url = "http://127.0.0.1:9/status.json"
    elif setup == "garbage":
        status_server.expect_request("/s").respond_with_data("<html>oops</html>")
        url = status_server.url_for("/s")
    elif setup == "not-object":
        status_server.expect_request("/s").respond_with_json([1, 2])
        url = status_server.url_for("/s")
    elif setup == "server-error":
        status_server.expect_request("/s").respond_with_data("boom", status=500)
        url = status_server.url_for("/s")
    elif setup == "slow":
        # Held until the test ends (the server is shared: a sleeping handler would stall
        # the next test's requests).
        status_server.expect_request("/s").respond_with_handler(lambda request: release.wait(3))
        url = status_server.url_for("/s")
    elif setup == "disallowed-host":
        url = "http://internal.example:8080/status.json"
    else:
        url = "/nonexistent/status.json"
    settings.QUICK_ORDER_EXPORT_STATUS_URL = url
    client.force_login(alice)
    started = time.monotonic()
    response = client.get(URL)
    assert response.status_code == 200
    assert time.monotonic() - started < 2.5
    card = _card(response.content.decode(), "quick_order_telemetry")
    # A slow source is cut off by the read timeout, or by the page's own deadline.
    assert message in card or (setup == "slow" and "did not answer" in card)
    assert "Download latest NDJSON" not in card


def test_a_status_read_is_cached_between_page_views(client, alice, status_server, settings):
    status_server.expect_request("/s").respond_with_json(
        {"syncedAt": timezone.now().isoformat(), "events": 7}
    )
    settings.QUICK_ORDER_EXPORT_STATUS_URL = status_server.url_for("/s")
    client.force_login(alice)
    client.get(URL)
    client.get(URL)
    assert len(status_server.log) == 1


def test_the_funnel_is_compared_with_the_exported_metrics_and_drift_is_flagged(
    client, alice, status_server, settings, api_client
):
    for name in (
        ["quick_order.start"] * 10 + ["quick_order.complete"] * 5 + ["quick_order.abort"] * 2
    ):
        api_client.post(
            "/api/telemetry/quick-order",
            {
                "eventName": name,
                "productId": "p",
                "productTitle": "P",
                "metadata": {"reason": "price_changed"},
            },
            format="json",
        )
    status_server.expect_request("/s").respond_with_json(
        {
            "syncedAt": timezone.now().isoformat(),
            "events": 17,
            "metrics": {
                "startCount": 10,
                "abortCount": 2,
                "completeCount": 4,
                "completionRate": 40.0,
            },
        }
    )
    settings.QUICK_ORDER_EXPORT_STATUS_URL = status_server.url_for("/s")
    client.force_login(alice)
    html = client.get(URL).content.decode()
    rows = {
        key: html[html.index(f'data-comparison="{key}"') :].split("</tr>")[0]
        for key in ("startCount", "abortCount", "completeCount", "completionRate")
    }
    assert 'class="drifted"' not in html.split('data-comparison="startCount"')[0][-40:]
    assert "0.0%" in rows["startCount"]
    assert "25.0% drift" in rows["completeCount"]  # 5 local vs 4 exported
    assert "+1" in rows["completeCount"]
    assert "25.0% drift" in rows["completionRate"]  # 50.0 vs 40.0


def test_missing_exported_metrics_show_as_dashes_not_zeros(client, alice, status_server, settings):
    status_server.expect_request("/s").respond_with_json(
        {"syncedAt": timezone.now().isoformat(), "events": 3, "metrics": {"startCount": None}}
    )
    settings.QUICK_ORDER_EXPORT_STATUS_URL = status_server.url_for("/s")
    client.force_login(alice)
    html = client.get(URL).content.decode()
    row = html[html.index('data-comparison="startCount"') :].split("</tr>")[0]
    assert row.count("&ndash;") >= 3


def test_a_platform_with_a_handle_and_no_label_shows_no_none(client, alice):
    GuardrailFollowUpFactory(
        platform_context_id=None,
        platform_context_label=None,
        platform_context_handle="@reviewa_handle_1",
        platform_context_type="instagram",
    )
    client.force_login(alice)
    html = client.get(URL).content.decode()
    row = html[html.index('data-label="Platform"') :]
    row = row[: row.index("</td>")]
    assert "@reviewa_handle_1" in row and "None" not in row


def test_timeline_filters_and_pages_by_cursor(client, alice):
    GuardrailFollowUpFactory.create_batch(40, provider_id="prov-a", action="pause")
    GuardrailFollowUpFactory.create_batch(5, provider_id="prov-b", action="escalate")
    client.force_login(alice)
    html = client.get(URL, {"provider": "prov-b"}).content.decode()
    section = html[html.index('id="follow-ups"') :]
    assert section.count("action-escalate") == 5 and "action-pause" not in section
    first = client.get(URL, {"action": "pause"}).content.decode()
    assert first.count('class="badge action-pause"') == 25 and "Older follow-ups" in first
    before = first.split("before=")[1].split("#")[0]
    second = client.get(f"{URL}?action=pause&before={before}").content.decode()
    assert second.count('class="badge action-pause"') == 15 and "Older follow-ups" not in second
    assert 'href="?action=pause#follow-ups" data-page="newest"' in second  # filter kept


def _timeline_ids(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('data-follow-up="')[1:]]


def _link(html: str, page: str) -> str | None:
    marker = f'data-page="{page}"'
    if marker not in html:
        return None
    href = html[: html.index(marker)].rsplit('href="', 1)[1].split('"')[0]
    return href.replace("&amp;", "&")


def test_the_timeline_pages_newer_and_older_and_knows_its_ends(client, alice):
    base = timezone.now() - timedelta(days=1)
    rows = [
        GuardrailFollowUpFactory(provider_id="prov-a", created_at=base + timedelta(minutes=i))
        for i in range(60)
    ]
    newest_first = [str(row.pk) for row in reversed(rows)]
    client.force_login(alice)
    first = client.get(URL).content.decode()
    assert _timeline_ids(first) == newest_first[:25]
    assert _link(first, "newer") is None and _link(first, "newest") is None
    second = client.get(URL + _link(first, "older")).content.decode()
    third = client.get(URL + _link(second, "older")).content.decode()
    assert _timeline_ids(third) == newest_first[50:]
    assert _link(third, "older") is None  # the oldest page offers no "Older"
    back = client.get(URL + _link(third, "newer")).content.decode()
    assert _timeline_ids(back) == newest_first[25:50]
    top = client.get(URL + _link(back, "newer")).content.decode()
    assert _timeline_ids(top) == newest_first[:25]
    assert _link(top, "newer") is None and _link(top, "newest") is None  # the newest page
    assert _link(top, "older") is not None


@pytest.mark.parametrize(
    "typed", ["SocialForge", "social", "SOCIALF", "prov-soc", "PROV-SOCIALFORGE"]
)
def test_the_provider_filter_finds_names_and_ids_in_any_case(client, alice, typed):
    GuardrailFollowUpFactory.create_batch(
        3, provider_id="prov-socialforge", provider_name="SocialForge"
    )
    GuardrailFollowUpFactory.create_batch(2, provider_id="prov-tiklift", provider_name="TikLift")
    client.force_login(alice)
    html = client.get(URL, {"provider": typed}).content.decode()
    table = html[html.index('id="follow-up-table"') :]
    assert table.count("data-follow-up=") == 3
    assert "TikLift" not in table


def test_the_provider_suggestions_offer_names_with_their_ids(client, alice):
    earlier = timezone.now() - timedelta(days=2)
    GuardrailFollowUpFactory(
        provider_id="prov-socialforge", provider_name="Social Forge (old)", created_at=earlier
    )
    GuardrailFollowUpFactory(
        provider_id="prov-socialforge",
        provider_name="SocialForge",
        created_at=earlier + timedelta(days=1),
    )
    client.force_login(alice)
    html = client.get(URL).content.decode()
    datalist = html[html.index('<datalist id="providers">') :].split("</datalist>")[0]
    assert '<option value="SocialForge">prov-socialforge</option>' in datalist  # newest name


def test_the_provider_search_runs_on_the_lower_prefix_indexes():
    from django.db import connection

    from reports.selectors import follow_ups_matching

    GuardrailFollowUpFactory.create_batch(5, provider_id="prov-socialforge")
    # A table the size where it matters, with statistics: with five rows and none, the
    # planner may walk the keyset index backwards and filter, which costs the same there.
    others = GuardrailFollowUpFactory.build_batch(3000)
    GuardrailFollowUp.objects.bulk_create(others)
    query = follow_ups_matching(provider="Social").order_by("-created_at", "-id")[:26]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_guardrailfollowup")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "followup_provider_id_idx" in plan and "followup_provider_name_idx" in plan, plan


def test_two_filter_errors_are_two_messages(client, alice):
    client.force_login(alice)
    html = client.get(URL, {"action": "delete", "before": "garbage"}).content.decode()
    errors = html[html.index('class="errornote timeline-errors"') :].split("</ul>")[0]
    assert errors.count("<li>") == 2
    assert "Action: Select a valid choice." in errors
    assert "<li>That page link is broken; start from the newest.</li>" in errors


def test_the_recorded_message_shows_above_the_timeline_where_the_redirect_lands(client, alice):
    client.force_login(alice)
    response = client.post(
        "/admin/reports/follow-ups/",
        {"provider_id": "prov-x", "provider_name": "Provider X", "action": "pause"},
    )
    assert response["Location"].endswith("#follow-ups")
    html = client.get(response["Location"]).content.decode()
    section = html[html.index('id="follow-ups"') :]
    assert "Recorded: Pause for Provider X." in section.split('id="follow-up-table"')[0]
    assert "Recorded:" not in html[: html.index('id="follow-ups"')]  # not at the page's top


def test_the_record_form_marks_its_required_fields(client, alice):
    client.force_login(alice)
    html = client.get(URL).content.decode()
    form = html[html.index('id="record-follow-up"') :].split("</form>")[0]
    required = [
        part.split('"')[0]
        for part in form.split('<label for="')[1:]
        if 'class="required"' in part.split(">")[0]
    ]
    assert required == ["id_provider_id", "id_provider_name", "id_action"]
    assert form.count('<span class="visually-hidden"> (required)</span>') == 3


def test_the_funnel_names_the_starts_without_an_outcome(client, alice):
    from telemetry.models import QuickOrderEvent

    for index, name in enumerate(["start"] * 10 + ["complete"] * 5 + ["abort"] * 3):
        QuickOrderEvent.objects.create(
            session_id=f"s{index}",
            event_name=f"quick_order.{name}",
            product_id="p",
            product_title="P",
        )
    client.force_login(alice)
    html = client.get(URL).content.decode()
    row = html[html.index('data-outcome="none"') :].split("</div>")[0]
    assert "No outcome yet" in row and "20&thinsp;%" in row
    assert "2 starts without a complete or an abort" in html


def test_a_broken_page_link_is_a_message_not_an_error(client, alice):
    client.force_login(alice)
    response = client.get(URL, {"before": "garbage"})
    assert response.status_code == 200
    assert "That page link is broken" in response.content.decode()


def test_recording_a_follow_up_from_the_form(client, alice):
    client.force_login(alice)
    response = client.post(
        "/admin/reports/follow-ups/",
        {
            "provider_id": "prov-x",
            "provider_name": "Provider X",
            "action": "escalate",
            "notes": "Third breach this week.",
            "platform_context_id": "instagram",
            "conversion_href": "https://admin.smplat.io/conversions",
        },
    )
    assert response.status_code == 302
    follow_up = GuardrailFollowUp.objects.get()
    assert (follow_up.provider_id, follow_up.action, follow_up.conversion_cursor) == (
        "prov-x",
        "escalate",
        None,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Recorded: Escalate for Provider X." in page


def test_a_bad_follow_up_form_shows_errors_and_stores_nothing(client, alice):
    client.force_login(alice)
    response = client.post(
        "/admin/reports/follow-ups/",
        {
            "provider_id": "",
            "provider_name": "X",
            "action": "delete",
            "conversion_href": "javascript:alert(1)",
        },
    )
    assert response.status_code == 400
    assert not GuardrailFollowUp.objects.exists()
    assert response.content.decode().count('class="errorlist') >= 3
    assert response.content.decode().count("Enter a valid URL.") == 1


@pytest.mark.parametrize("href", ["javascript:alert(document.cookie)", "ftp://example.org/x"])
def test_the_admin_refuses_a_conversion_link_that_is_not_a_web_address(client, alice, href):
    client.force_login(alice)
    response = client.post(
        "/admin/reports/guardrailfollowup/add/",
        {
            "provider_id": "prov-1",
            "provider_name": "Provider",
            "action": "pause",
            "conversion_href": href,
            "created_at_0": "2026-11-22",
            "created_at_1": "04:00:00",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert "Enter a valid URL." in response.content.decode()
    assert not GuardrailFollowUp.objects.exists()


def test_a_stored_link_that_is_not_a_web_address_is_shown_as_text(client, alice):
    """Rows written before the validation, or by SQL, are not rendered as links."""
    GuardrailFollowUp.objects.create(
        provider_id="prov-1",
        provider_name="Provider",
        action="pause",
        conversion_cursor="slice-7",
        conversion_href="javascript:alert(document.cookie)",
    )
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert "slice-7" in html
    assert "javascript:" not in html


def test_the_follow_up_form_needs_csrf(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(
        "/admin/reports/follow-ups/", {"provider_id": "p", "provider_name": "P", "action": "pause"}
    )
    assert response.status_code == 403
    assert not GuardrailFollowUp.objects.exists()


def _many_runs_and_follow_ups(n: int) -> None:
    now = timezone.now()
    ExportRun.objects.bulk_create(
        ExportRun(
            feed=feed,
            outcome="succeeded",
            rows=i,
            created_at=now - timedelta(minutes=i),
            started_at=now - timedelta(minutes=i),
            finished_at=now - timedelta(minutes=i),
        )
        for feed in (
            "guardrail_followups",
            "quick_order_telemetry",
            "guardrail_workflow_telemetry",
            "onboarding_pricing_segments",
        )
        for i in range(n)
    )
    GuardrailFollowUpFactory.create_batch(n)


@pytest.mark.parametrize("scale", [3, 60])
def test_query_count_does_not_grow_with_the_data(client, alice, django_assert_num_queries, scale):
    _many_runs_and_follow_ups(scale)
    client.force_login(alice)
    client.get(URL)  # warm the session and the permission cache
    # session, user, providers, timeline, runs: 5; the cards' cursor changes and their
    # downloadable runs (run history and repair): 2; then the export health of the cards
    # (exports/health.py): the feeds' stored states (badge keys), their recent flips, one
    # bounded count of what waits after each of the four feeds' cursors, and the local
    # quick-order funnel its drift check compares (the page's funnel panel reuses it, so the
    # page's own funnel query is gone): 5 + 2 + 2 + 4 + 1 = 14, whatever the rows and runs.
    with django_assert_num_queries(14):
        assert client.get(URL).status_code == 200


def test_the_timeline_shows_when_in_utc_as_date_and_time(client, alice):
    from datetime import UTC, datetime

    GuardrailFollowUp.objects.create(
        provider_id="prov-" + "x" * 180,  # one unbroken id: the cell wraps it
        provider_name="Provider",
        action="pause",
        created_at=datetime(2026, 1, 22, 4, 7, 31, tzinfo=UTC),
    )
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert '<time datetime="2026-01-22T04:07:31.000000Z">2026-01-22 04:07</time>' in html


def test_every_admin_page_names_the_site_icon(client, alice):
    from django.test import Client

    login = Client().get("/admin/login/").content.decode()
    assert 'rel="icon" type="image/svg+xml" href="/static/reports/favicon.svg"' in login
    client.force_login(alice)
    for path in ("/admin/", URL, "/admin/onboarding/", "/dashboard/telemetry/"):
        html = client.get(path).content.decode()
        assert 'rel="icon" type="image/svg+xml" href="/static/reports/favicon.svg"' in html, path
    icon = client.get("/static/reports/favicon.svg")
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)


def test_a_card_says_where_its_status_figures_come_from_and_when_they_were_written(
    client, alice, settings, tmp_path
):
    """ "Figures from the export's status payload" said little: the card names the source
    (an http one by scheme and host only, its query can be a signature) and the time."""
    import json

    status = tmp_path / "status.json"
    status.write_text(json.dumps({"cursor": None, "rows": 7, "updatedAt": "2026-11-30T10:15:00Z"}))
    settings.GUARDRAIL_EXPORT_STATUS_URL = str(status)
    client.force_login(alice)

    page = client.get("/admin/reports/").content.decode()
    card = page[page.index('id="card-guardrail_followups"') :]
    card = card[: card.index("</article>")]
    assert f"Read from <code>{status}</code>" in card
    assert "written by the exporter at" in card and "2026-11-30 10:15 UTC" in card
    assert "Last export" in card and "7 rows" in card


def test_the_demo_status_payload_drifts_on_aborts_only(client, alice, settings, tmp_path):
    """`make run` points QUICK_ORDER_EXPORT_STATUS_URL at the demo's status file: the
    comparison has exported values, and one metric (aborts) is flagged."""
    import json

    status = tmp_path / "quick-order-export-status.json"
    settings.QUICK_ORDER_EXPORT_STATUS_URL = str(status)
    call_command("seed_dashboard", verbosity=0)
    payload = json.loads(status.read_text())
    assert payload["events"] > 4000 and payload["downloadUrl"] is None
    client.force_login(alice)
    html = client.get(URL).content.decode()
    flagged = {
        key
        for key in ("startCount", "abortCount", "completeCount", "completionRate")
        if 'class="drifted"' in html.split(f'data-comparison="{key}"')[0].rsplit("<tr", 1)[1]
    }
    assert flagged == {"abortCount"}
    row = html[html.index('data-comparison="startCount"') :].split("</tr>")[0]
    assert "&ndash;" not in row  # exported and local both shown
