"""Every model's admin pages render for staff, filled with the demo data."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
OUR_MODELS = [
    (m, a) for m, a in REGISTERED if m._meta.app_label in {"telemetry", "reports", "exports"}
]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module (seeding is the slow part), and empty the tables after."""
    with django_db_blocker.unblock():
        call_command("seed_dashboard", verbosity=0)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.parametrize("model", [m for m, _ in OUR_MODELS], ids=lambda m: m._meta.label)
def test_changelist_and_detail_render_for_staff(client, alice, seeded, model):
    client.force_login(alice)
    opts = model._meta
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    obj = model.objects.first()
    assert obj is not None, f"the demo data has no {opts.verbose_name}"
    assert 'id="result_list"' in changelist.content.decode(), "the changelist shows no rows"

    detail = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert detail.status_code == 200


def test_admin_index_lists_every_model(client, alice):
    client.force_login(alice)
    page = client.get(reverse("admin:index")).content.decode()
    for model, _ in OUR_MODELS:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert f'href="{url}"' in page


def test_telemetry_cannot_be_edited_in_the_admin(client, alice, seeded):
    from telemetry.models import QuickOrderEvent

    client.force_login(alice)
    event = QuickOrderEvent.objects.first()
    url = reverse("admin:telemetry_quickorderevent_change", args=[event.pk])
    client.post(url, {"product_title": "tampered"})
    event.refresh_from_db()
    assert event.product_title != "tampered"
    assert client.get(reverse("admin:telemetry_quickorderevent_add")).status_code == 403


def test_charlie_gets_the_login_page(client, charlie):
    client.force_login(charlie)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def _nul_queries(model_admin) -> list[dict]:
    """Every way a changelist takes text from the query string, each given a NUL byte: the
    search box and the lookups of its filters (PostgreSQL refuses NUL in any text)."""
    queries = [{"q": "\x00"}, {"o": "\x00"}, {"\x00": "1"}]
    for entry in model_admin.list_filter:
        if isinstance(entry, str):
            queries.append({f"{entry}__exact": "\x00"})
    return queries


@pytest.mark.parametrize(
    ("model", "model_admin"), OUR_MODELS, ids=lambda value: getattr(value, "__name__", "")
)
def test_a_nul_byte_in_any_admin_list_query_is_a_400_not_a_500(client, alice, model, model_admin):
    client.raise_request_exception = False  # what a production server answers (DEBUG off)
    client.force_login(alice)
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    for query in _nul_queries(model_admin):
        response = client.get(url, query)
        assert response.status_code == 400, (query, response.status_code)
        assert "NUL" in response.content.decode()


HUGE = "9" * 23  # past a C long and a bigint


def _out_of_range_queries(model_admin) -> list[dict]:
    queries = [{"pk__exact": HUGE}, {"id__gt": HUGE}]
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        queries += [
            {f"{field}__year": HUGE},
            {f"{field}__year": "2026", f"{field}__month": HUGE},
            {f"{field}__year": "2026", f"{field}__month": "1", f"{field}__day": HUGE},
        ]
    return queries


@pytest.mark.parametrize(
    ("model", "model_admin"), OUR_MODELS, ids=lambda value: getattr(value, "__name__", "")
)
def test_a_number_out_of_range_in_any_admin_list_query_is_a_400_not_a_500(
    client, alice, model, model_admin
):
    """``?created_at__year=99999999999999999999999`` overflowed in the query: a 500."""
    client.raise_request_exception = False
    client.force_login(alice)
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    for query in _out_of_range_queries(model_admin):
        response = client.get(url, query)
        assert response.status_code in (200, 302, 400), (query, response.status_code)
        if response.status_code == 400:
            assert "out of range" in response.content.decode()
    assert client.get(url).status_code == 200  # and the list itself still answers


def test_the_guardrail_follow_up_filter_of_the_issue_is_refused(client, alice, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(alice)
    response = client.get("/admin/reports/guardrailfollowup/?provider_id__exact=%00")
    assert response.status_code == 400
    assert client.get("/admin/reports/guardrailfollowup/%00/change/").status_code == 400
    assert client.get("/admin/onboarding/", {"slug": "\x00"}).status_code == 400
    # A clean filter on the same list still works.
    assert client.get("/admin/reports/guardrailfollowup/?provider_id__exact=p1").status_code == 200


def test_the_admin_index_names_things_in_the_sites_wording(client, alice):
    client.force_login(alice)
    page = client.get("/admin/").content.decode()
    for name in ("Guardrail follow-ups", "Quick-order events", "Background tasks", "Task results"):
        assert f">{name}<" in page, name
    for old in ("Guardrail follow ups", "Task Results", "Tasks Database Backend"):
        assert old not in page, old
    assert ">API docs</a>" in page


def test_admin_lists_show_times_in_utc_with_the_zone(client, alice):
    from datetime import UTC, datetime

    from telemetry.models import OnboardingJourney

    journey = OnboardingJourney.objects.create(order_id="6f0c4a4e-7d4b-4a8e-9a57-0e6f5f1c2b11")
    OnboardingJourney.objects.filter(pk=journey.pk).update(
        created_at=datetime(2026, 11, 29, 5, 21, 18, tzinfo=UTC)
    )
    client.force_login(alice)
    page = client.get("/admin/telemetry/onboardingjourney/").content.decode()
    assert "2026-11-29 05:21:18 UTC" in page
