"""/admin/onboarding/: who may see it, what its filters select, what the CSV holds, what it costs."""

import csv
import html
import io
import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telemetry import services
from telemetry.models import (
    OnboardingJourney,
    OnboardingJourneyTask,
    PricingExperimentSegment,
    QuickOrderEvent,
)
from telemetry.rows import SEGMENT_CSV_HEADER
from telemetry.selectors import quick_order_funnel

pytestmark = pytest.mark.django_db

PAGE = "/admin/onboarding/"
CSV_URL = "/admin/onboarding/segments.csv"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo data, seeded once for the module (seeding is the slow part), emptied after."""
    with django_db_blocker.unblock():
        call_command("seed_dashboard", verbosity=0)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def empty_tables():
    """No journeys, segments or quick-order events, whatever a module fixture seeded.

    Deleted inside the test's transaction, so the rows come back when it rolls back.
    """
    PricingExperimentSegment.objects.all().delete()
    OnboardingJourney.objects.all().delete()
    QuickOrderEvent.objects.all().delete()


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _grant(user, *permissions: str):
    codenames = [permission.split(".", 1)[1] for permission in permissions]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached


def _text(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def _ids(page: str, attribute: str) -> list[str]:
    return re.findall(rf'{attribute}="([^"]+)"', page)


def _csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    reader = csv.reader(io.StringIO(body))
    header = next(reader)
    assert tuple(header) == SEGMENT_CSV_HEADER
    return [dict(zip(header, row, strict=True)) for row in reader]


def _record_journey(index: int, *, done: int = 2, experiments: int = 1, when=None) -> None:
    """A journey with ``done`` checklist tasks completed and ``experiments`` assignments."""
    order_id = uuid.uuid5(uuid.NAMESPACE_URL, f"order-{index}")
    segments = [
        {
            "slug": ["spring-offer", "bundle-anchor"][n % 2],
            "variantKey": "control" if index % 3 == 0 else f"variant-{n}",
            "variantName": f"Variant {n}",
            "isControl": index % 3 == 0,
            "status": "running",
            "featureFlagKey": "pricing_lab",
            "assignmentStrategy": "sequential",
        }
        for n in range(experiments)
    ]
    services.onboarding_event_record(
        order_id=order_id,
        order_number=f"T-{index}",
        event_type="journey_started",
        metadata={"pricing_experiment_segment": segments},
        recorded_at=when,
    )
    for task in OnboardingJourneyTask.objects.filter(journey__order_id=order_id)[:done]:
        services.onboarding_event_record(
            order_id=order_id, event_type="task_completed", task_key=task.key, completed=True
        )


# --- Who may see it -----------------------------------------------------------------------------


def test_a_broken_rows_link_says_so_instead_of_blaming_the_filters(seeded, alice):
    page = _text(_client(alice).get(PAGE, {"rows_before": "garbage"}))
    assert "That page link is broken" in page and "Show the newest rows" in page
    assert "Fix the filters above" not in page


def test_the_cards_offer_what_they_offer_on_the_reports_page(seeded, alice):
    """The onboarding page's cards lacked "Rewind or backfill" and "Status badge"."""
    page = _client(alice).get(PAGE).content.decode()
    card = page[page.index('id="card-onboarding_pricing_segments"') :]
    card = card[: card.index("</article>")]
    assert "<summary>Rewind or backfill</summary>" in card
    assert "<summary>Status badge</summary>" in card


def test_alice_sees_journeys_segments_and_funnel_inside_the_admin(seeded, alice):
    page = _text(_client(alice).get(PAGE))

    assert '<div class="breadcrumbs">' in page and "&rsaquo; Onboarding" in page
    assert 'id="nav-sidebar"' in page, "the admin's sidebar"
    assert "smplat reports" in page, "the admin's header"
    assert "reports/operator.css" in page
    assert len(_ids(page, "data-journey")) == 20
    assert len(_ids(page, "data-segment")) == 50
    assert page.count('class="progress-bar') == 20
    funnel = quick_order_funnel()
    assert funnel["startCount"] > 0
    assert (
        f'data-metric="completionRate"><span class="stat-label">Completion rate</span><span class="stat-value">{funnel["completionRate"]:.1f}'
        in page
    )
    for item in funnel["abortReasons"]:
        assert f'data-abort-reason="{item["reason"]}"' in page
    assert f'href="{reverse("onboarding-segments-csv")}"' in page


def test_the_page_is_linked_from_the_admin_index(seeded, alice):
    assert f'href="{reverse("onboarding")}"' in _text(_client(alice).get(reverse("admin:index")))


@pytest.mark.parametrize("url", [PAGE, CSV_URL])
def test_bob_without_permissions_is_refused(bob, url):
    assert _client(bob).get(url).status_code == 403


@pytest.mark.parametrize("url", [PAGE, CSV_URL])
def test_charlie_and_anonymous_users_go_to_the_admin_login(charlie, url):
    for client in (_client(charlie), _client()):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('admin:login')}?next={url}"


def test_staff_with_the_two_view_permissions_see_the_page_and_need_a_third_for_the_funnel(bob):
    bob = _grant(bob, "telemetry.view_onboardingjourney", "telemetry.view_pricingexperimentsegment")
    page = _text(_client(bob).get(PAGE))
    assert "data-funnel" not in page
    assert "permission to see the funnel" in page
    assert _client(bob).get(CSV_URL).status_code == 200

    bob = _grant(bob, "telemetry.view_quickorderevent")
    assert "data-funnel" in _text(_client(bob).get(PAGE))


def test_one_permission_is_not_enough(bob):
    bob = _grant(bob, "telemetry.view_onboardingjourney")
    assert _client(bob).get(PAGE).status_code == 403
    assert _client(bob).get(CSV_URL).status_code == 403


def test_the_page_is_read_only(alice):
    assert _client(alice).post(PAGE).status_code == 405


# --- Journeys -----------------------------------------------------------------------------------


def test_status_filter_shows_only_journeys_with_that_status(seeded, alice):
    page = _text(_client(alice).get(PAGE, {"status": "completed"}))
    statuses = _ids(page, "data-status")
    completed = OnboardingJourney.objects.filter(status="completed").count()
    assert completed > 0, "the demo data has completed journeys"
    assert statuses == ["completed"] * min(completed, 20)
    assert 'aria-current="page" data-status-filter="completed"' in page


def test_older_links_walk_every_journey_once_newest_first(seeded, alice):
    client = _client(alice)
    seen: list[str] = []
    url = PAGE
    for _ in range(20):
        page = _text(client.get(url))
        seen += _ids(page, "data-journey")
        older = re.search(r'<a href="([^"]+)" rel="next" data-older>', page)
        if older is None:
            break
        url = PAGE + html.unescape(older.group(1)).split("#")[0]
    expected = [
        str(pk)
        for pk in OnboardingJourney.objects.order_by("-created_at", "-id").values_list(
            "id", flat=True
        )
    ]
    assert seen == expected


def test_progress_comes_from_the_checklist(alice, empty_tables):
    _record_journey(1, done=3)
    page = _text(_client(alice).get(PAGE))
    assert 'data-progress="3/5"' in page
    assert 'style="width: 60%"' in page
    assert "Book the kickoff call" in page  # the next open task


# --- Segments -----------------------------------------------------------------------------------


def _window(days_back_from: int, days_back_to: int) -> dict:
    today = timezone.now().date()
    return {
        "date_from": (today - timedelta(days=days_back_from)).isoformat(),
        "date_to": (today - timedelta(days=days_back_to)).isoformat(),
    }


def _filtered(slug=None, variant=None, control=None, date_from=None, date_to=None):
    rows = PricingExperimentSegment.objects.all()
    if slug:
        rows = rows.filter(slug=slug)
    if variant:
        rows = rows.filter(variant_key=variant)
    if control is not None:
        rows = rows.filter(is_control=control)
    if date_from:
        rows = rows.filter(recorded_at__gte=datetime.fromisoformat(date_from).replace(tzinfo=UTC))
    if date_to:
        end = datetime.fromisoformat(date_to).replace(tzinfo=UTC) + timedelta(days=1)
        rows = rows.filter(recorded_at__lt=end)
    return rows


def test_filters_narrow_the_table_to_the_newest_matching_rows(seeded, alice):
    query = {"slug": "spring-offer", "control": "variant", **_window(15, 2)}
    page = _text(_client(alice).get(PAGE, query))

    expected = _filtered("spring-offer", None, False, query["date_from"], query["date_to"])
    newest = [
        str(pk) for pk in expected.order_by("-recorded_at", "-id").values_list("id", flat=True)[:50]
    ]
    assert 0 < len(newest) < PricingExperimentSegment.objects.count()
    assert _ids(page, "data-segment") == newest
    assert f"{expected.count()} matching rows (filtered)" in page


def test_variant_filter_and_summary_counts_match_the_database(seeded, alice):
    page = _text(_client(alice).get(PAGE, {"slug": "spring-offer"}))
    for variant in ["control", "spring-15", "spring-bundle"]:
        rows = PricingExperimentSegment.objects.filter(slug="spring-offer", variant_key=variant)
        assert f'<tr data-variant="{variant}">' in page
        assert re.search(
            rf'<tr data-variant="{variant}">.*?data-rows="{rows.count()}"', page, re.DOTALL
        )
    assert 'data-slug="bundle-anchor"' not in page

    page = _text(_client(alice).get(PAGE, {"slug": "spring-offer", "variant": "spring-15"}))
    shown = set(_ids(page, "data-segment"))
    assert shown and shown <= {
        str(pk)
        for pk in PricingExperimentSegment.objects.filter(variant_key="spring-15").values_list(
            "id", flat=True
        )
    }


def test_csv_download_holds_exactly_the_filtered_rows(seeded, alice):
    query = {"slug": "bundle-anchor", "control": "control", **_window(20, 1)}
    page = _text(_client(alice).get(PAGE, query))
    link = re.search(r'id="segments-csv" href="([^"]+)"', page).group(1)
    response = _client(alice).get(html.unescape(link))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="onboarding-experiment-segments.csv"'
    )
    rows = _csv_rows(response)
    expected = _filtered("bundle-anchor", None, True, query["date_from"], query["date_to"])
    assert len(rows) == expected.count() > 0
    assert Counter((r["event_id"], r["slug"], r["variant_key"]) for r in rows) == Counter(
        (str(e), s, v) for e, s, v in expected.values_list("event_id", "slug", "variant_key")
    )
    assert {r["is_control"] for r in rows} == {"true"}


def test_csv_without_filters_holds_every_row(seeded, alice):
    rows = _csv_rows(_client(alice).get(CSV_URL))
    assert len(rows) == PricingExperimentSegment.objects.count()


def test_the_last_calendar_day_as_to_date_means_no_upper_bound(seeded, alice):
    query = {"date_from": "0001-01-01", "date_to": "9999-12-31"}
    page = _client(alice).get(PAGE, query)
    assert page.status_code == 200 and 'role="alert"' not in _text(page)
    rows = _csv_rows(_client(alice).get(CSV_URL, query))
    assert len(rows) == PricingExperimentSegment.objects.count()


def test_csv_neutralises_cells_a_spreadsheet_would_run(alice, empty_tables):
    services.onboarding_event_record(
        order_id=uuid.uuid4(),
        order_number='=HYPERLINK("http://evil.example","open")',
        event_type="journey_started",
        metadata={
            "pricing_experiment_segment": {
                "slug": "spring-offer",
                "variantKey": "@SUM(A1)",
                "variantName": "+1+1",
                "assignmentStrategy": "-2",
            }
        },
    )
    [row] = _csv_rows(_client(alice).get(CSV_URL, {"slug": "spring-offer"}))
    assert row["order_number"] == '\'=HYPERLINK("http://evil.example","open")'
    assert row["variant_key"] == "'@SUM(A1)"
    assert row["variant_name"] == "'+1+1"
    assert row["assignment_strategy"] == "'-2"


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "2026-02-30"}, "Enter a valid date."),
        ({"date_to": "yesterday"}, "Enter a valid date."),
        ({"control": "maybe"}, "Select a valid choice."),
        ({"slug": "no-such-experiment"}, "Select a valid choice."),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "is after the"),
        ({"variant": "x" * 201}, "at most 200 characters"),
    ],
)
def test_bad_segment_filters_show_a_form_error_and_refuse_the_csv(alice, query, message):
    page = _text(_client(alice).get(PAGE, query))
    assert 'class="errorlist' in page and message in html.unescape(page)
    assert "Fix the filters above" in page
    assert 'id="segments-csv"' not in page

    response = _client(alice).get(CSV_URL, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("query", [{"status": "lost"}, {"before": "not-a-cursor"}])
def test_bad_journey_filters_show_an_error(alice, query):
    page = _text(_client(alice).get(PAGE, query))
    assert 'role="alert"' in page and "Show all journeys" in page


# --- Cost ---------------------------------------------------------------------------------------

# Session and user (2), experiment choices (1), journey status counts, journeys, their tasks,
# their events' span, their experiments (5), segment summary and newest rows (2), the two
# export cards' run history, cursor changes and downloadable runs (3), and their health
# (exports/health.py): the stored states with the badge keys and the recent flips (2), one
# bounded count of what waits after each feed's cursor (2), and the local quick-order funnel
# of the drift check, which the funnel panel reuses (1).
PAGE_QUERIES = 18


@pytest.mark.parametrize("journeys", [5, 50])
def test_page_queries_do_not_grow_with_the_data(
    alice, empty_tables, django_assert_num_queries, journeys
):
    for index in range(journeys):
        _record_journey(index, done=index % 6, experiments=1 + index % 2)
    QuickOrderEvent.objects.bulk_create(
        QuickOrderEvent(
            event_name=["quick_order.start", "quick_order.abort"][n % 2],
            product_id="p",
            product_title="P",
            metadata={"reason": f"reason-{n % 7}"},
        )
        for n in range(journeys * 4)
    )
    client = _client(alice)
    with django_assert_num_queries(PAGE_QUERIES):
        page = _text(client.get(PAGE, {"slug": "spring-offer", "date_from": "2020-01-01"}))
    assert len(_ids(page, "data-journey")) == min(journeys, 20)


@pytest.mark.parametrize("journeys", [5, 50])
def test_csv_queries_do_not_grow_with_the_data(
    alice, empty_tables, django_assert_num_queries, journeys
):
    for index in range(journeys):
        _record_journey(index, done=0, experiments=2)
    client = _client(alice)
    # Session and user, experiment choices, one keyset batch (2 000 rows a batch).
    with django_assert_num_queries(4):
        rows = _csv_rows(client.get(CSV_URL))
    assert len(rows) == journeys * 2


# --- The funnel ---------------------------------------------------------------------------------


def _quick_order(name: str, **metadata) -> QuickOrderEvent:
    return QuickOrderEvent(
        event_name=f"quick_order.{name}", product_id="p", product_title="P", metadata=metadata
    )


def test_quick_order_funnel_counts_the_window_in_the_exported_metric_terms(
    empty_tables, monkeypatch
):
    QuickOrderEvent.objects.bulk_create(
        [_quick_order("start", reason="ignored on starts")]  # left behind by the window below
        + [_quick_order("start") for _ in range(3)]
        + [_quick_order("complete") for _ in range(2)]
        + [
            _quick_order("abort", reason="payment_declined"),
            _quick_order("abort", reason="payment_declined"),
            _quick_order("abort", reason="closed_modal"),
            _quick_order("abort", reason=""),
            _quick_order("abort"),
        ]
    )
    monkeypatch.setattr(QuickOrderEvent, "WINDOW", 10)

    funnel = quick_order_funnel()

    assert funnel == {
        "startCount": 3,
        "abortCount": 5,
        "completeCount": 2,
        "completionRate": 66.7,
        "abortReasons": [
            {"reason": "payment_declined", "count": 2},
            {"reason": None, "count": 2},
            {"reason": "closed_modal", "count": 1},
        ],
        "events": 10,
        "lastRecordedAt": QuickOrderEvent.objects.order_by("-recorded_at")[0].recorded_at,
    }


def test_quick_order_funnel_without_starts_has_no_rate(empty_tables):
    QuickOrderEvent.objects.bulk_create([_quick_order("abort", reason="price_changed")])
    funnel = quick_order_funnel()
    assert funnel["startCount"] == 0 and funnel["completionRate"] is None
    assert funnel["abortReasons"] == [{"reason": "price_changed", "count": 1}]

    QuickOrderEvent.objects.all().delete()
    assert quick_order_funnel() == {
        "startCount": 0,
        "abortCount": 0,
        "completeCount": 0,
        "completionRate": None,
        "abortReasons": [],
        "events": 0,
        "lastRecordedAt": None,
    }


def test_funnel_snippet_renders_any_funnel_dict():
    """The contract the /admin/reports page relies on when it includes the snippet."""
    funnel = {
        "startCount": 1200,
        "abortCount": 300,
        "completeCount": 800,
        "completionRate": 66.7,
        "abortReasons": [{"reason": "price_changed", "count": 200}, {"reason": None, "count": 100}],
        "events": 2300,
        "lastRecordedAt": timezone.now(),
    }
    snippet = render_to_string("reports/snippets/quick_order_funnel.html", {"funnel": funnel})
    assert "1,200" in snippet and "66.7" in snippet
    assert 'data-abort-reason="price_changed"' in snippet and "no reason given" in snippet

    empty = {**funnel, "startCount": 0, "abortCount": 0, "completeCount": 0}
    empty.update(completionRate=None, abortReasons=[], events=0, lastRecordedAt=None)
    snippet = render_to_string("reports/snippets/quick_order_funnel.html", {"funnel": empty})
    assert "No quick-order events in the window yet." in snippet


def test_the_page_shows_its_exports_and_the_funnel_against_the_export(
    client, alice, seeded, settings, tmp_path
):
    status = tmp_path / "quick-order-status.json"
    status.write_text(
        '{"syncedAt": "2026-11-22T04:00:00Z", "events": 5000, "metrics": {"startCount": 1,'
        ' "abortCount": null, "completeCount": null, "completionRate": null}}'
    )
    settings.QUICK_ORDER_EXPORT_STATUS_URL = str(status)
    client.force_login(alice)
    html = client.get(PAGE).content.decode()
    assert 'id="card-onboarding_pricing_segments"' in html
    assert 'id="card-quick_order_telemetry"' in html
    row = html[html.index('data-comparison="startCount"') :].split("</tr>")[0]
    assert "% drift" in row  # thousands of local starts against 1 exported


def _segment_link(page: str, which: str) -> str | None:
    pager = page[page.index('id="segment-rows-title"') :]
    found = re.search(rf'<a href="([^"]+)"[^>]*data-page="{which}"', pager)
    return PAGE + html.unescape(found.group(1)).split("#")[0] if found else None


def test_the_segment_rows_page_older_and_back_newer_with_the_filters_kept(seeded, alice):
    client = _client(alice)
    expected = [
        str(pk)
        for pk in PricingExperimentSegment.objects.filter(is_control=False)
        .order_by("-recorded_at", "-id")
        .values_list("id", flat=True)
    ]
    assert len(expected) > 50
    first = _text(client.get(PAGE, {"control": "variant"}))
    assert _segment_link(first, "newer") is None and _segment_link(first, "newest") is None
    pages, url = [], PAGE + "?control=variant"
    while url:
        page = _text(client.get(url))
        pages.append(page)
        url = _segment_link(page, "older")
    assert [row for page in pages for row in _ids(page, "data-segment")] == expected
    last = pages[-1]
    assert "Older rows" in last and f"of {len(expected)}, newest first" in last
    assert "control=variant" in _segment_link(last, "newer")
    back = _text(client.get(_segment_link(last, "newer")))
    assert _ids(back, "data-segment") == _ids(pages[-2], "data-segment")
    # The CSV link carries the filters, never the table's position.
    assert "rows_before" not in re.search(r'id="segments-csv" href="([^"]+)"', last).group(1)


def test_the_csv_button_says_it_is_oldest_first(seeded, alice):
    page = _text(_client(alice).get(PAGE))
    note = page[page.index('id="segments-csv-note"') :].split("</span>")[0]
    assert "oldest first" in note and "newest first" in note


def test_the_activity_column_labels_the_start_and_the_last_event(seeded, alice):
    page = _text(_client(alice).get(PAGE))
    row = page[page.index("data-journey=") :].split("</tr>")[0]
    assert '<span class="quiet small">Started</span>' in row
    assert '<span class="quiet small">Last event</span>' in row


def test_the_page_title_breadcrumb_and_menu_name_agree(seeded, alice):
    client = _client(alice)
    page = _text(client.get(PAGE))
    assert "<h1>Onboarding &amp; experiments</h1>" in page
    assert "&rsaquo; Onboarding &amp; experiments" in page
    assert ">Onboarding &amp; experiments</a>" in _text(client.get("/admin/"))


def test_an_older_segment_page_costs_one_query_more(alice, empty_tables, django_assert_num_queries):
    for index in range(60):
        _record_journey(index, done=index % 6, experiments=1)
    client = _client(alice)
    client.get(PAGE)
    newest = PricingExperimentSegment.objects.order_by("-recorded_at", "-id").first()
    cursor = f"{newest.recorded_at.isoformat()}~{newest.pk}"
    with django_assert_num_queries(PAGE_QUERIES + 1):
        assert client.get(PAGE, {"rows_before": cursor}).status_code == 200
