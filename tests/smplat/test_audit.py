"""The audit trail: Run export now, follow-ups recorded (API and page) and key changes are
recorded with who, what, when and from where; read-only in the admin, for staff holding
audit.view_auditentry."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from smplat.api.services import api_key_create
from smplat.audit.models import AuditEntry
from smplat.audit.services import audit_record

pytestmark = pytest.mark.django_db

FOLLOW_UP = {"providerId": "prov-1", "providerName": "Provider 1", "action": "pause"}


@pytest.fixture(autouse=True)
def no_trigger(settings, tmp_path):
    settings.GUARDRAIL_EXPORT_TRIGGER_URL = ""
    settings.GUARDRAIL_EXPORT_SINK = "file"  # so the site can run the export
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "out.ndjson")
    settings.GUARDRAIL_EXPORT_STATUS_URL = ""
    cache.clear()


def _csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.10")
    client.force_login(user)
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    return client, token


def test_a_follow_up_recorded_with_a_key_names_the_key_and_its_address():
    key = api_key_create(name="admin-tools", scopes=["write"]).plaintext
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post("/api/v1/reporting/guardrails/followups", FOLLOW_UP, format="json")
    assert response.status_code == 201
    entry = AuditEntry.objects.get(action="follow_up.record")
    assert entry.actor == "key:admin-tools" and entry.actor_user is None
    assert entry.target == f"follow_up:{response.json()['followUpId']}"
    assert entry.address == "198.51.100.7"
    assert entry.details == {"providerId": "prov-1", "action": "pause"}


def test_a_follow_up_recorded_on_the_page_names_the_operator(alice):
    client, token = _csrf_client(alice)
    response = client.post(
        "/admin/reports/follow-ups/",
        {
            "provider_id": "prov-2",
            "provider_name": "P2",
            "action": "escalate",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_user, entry.action) == ("alice", alice, "follow_up.record")
    assert entry.address == "192.0.2.10"


@pytest.mark.parametrize(
    "path",
    ["/api/reporting/guardrail-followups/export", "/admin/reports/cards/guardrail_followups/run/"],
)
def test_run_export_now_is_recorded(alice, path):
    client, token = _csrf_client(alice)
    response = client.post(path, HTTP_X_CSRFTOKEN=token)
    assert response.status_code in (202, 302)
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target) == (
        "alice",
        "export.run_now",
        "feed:guardrail_followups",
    )
    assert entry.details["created"] is True and entry.details["outcome"] == "queued"


def test_a_refused_change_records_nothing(bob):
    client, token = _csrf_client(bob)
    assert (
        client.post("/api/reporting/guardrail-followups/export", HTTP_X_CSRFTOKEN=token).status_code
        == 403
    )
    anonymous = APIClient().post("/api/v1/reporting/guardrails/followups", FOLLOW_UP, format="json")
    assert anonymous.status_code == 401
    assert not AuditEntry.objects.exists()


def test_audit_record_takes_any_actor():
    entry = audit_record(
        actor="manage.py (deploy)",
        action="export_cursor.set",
        target="feed:guardrail_followups",
        details={"from": "a", "to": "b", "reason": "replay"},
        address=None,
    )
    assert str(entry).endswith("manage.py (deploy) export_cursor.set feed:guardrail_followups")


def test_the_trail_is_read_only_in_the_admin_for_staff_with_the_permission(alice, bob):
    entry = audit_record(
        actor=alice, action="export.run_now", target="feed:x", details={}, address="127.0.0.1"
    )
    client = Client()
    client.force_login(bob)
    assert client.get("/admin/audit/auditentry/").status_code == 403
    bob.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    client.force_login(type(bob).objects.get(pk=bob.pk))
    listing = client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200 and "export.run_now" in listing.content.decode()
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200

    admin = Client()
    admin.force_login(alice)  # even a superuser cannot add, edit or delete entries
    assert admin.get("/admin/audit/auditentry/add/").status_code == 403
    assert (
        admin.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert (
        admin.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"actor": "mallory"}).status_code
        == 403
    )
    entry.refresh_from_db()
    assert entry.actor == "alice" and AuditEntry.objects.count() == 1
