"""Named API keys: created once shown, stored hashed, scoped, expiring, revoked on the next
request, last use written at most once a minute; the api_key command and the admin."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from smplat.api.models import ApiKey
from smplat.api.services import api_key_create, api_key_revoke, api_key_verify
from smplat.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

FOLLOW_UPS = "/api/v1/reporting/guardrails/followups"
QUICK_ORDER = "/api/telemetry/quick-order"
CAPTURE = {"eventName": "quick_order.start", "productId": "p1", "productTitle": "P"}


def _client(key: str, header: str = "bearer") -> APIClient:
    client = APIClient()
    if header == "bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    else:
        client.credentials(HTTP_X_API_KEY=key)
    return client


def test_a_created_key_is_stored_only_as_its_hash_and_prefix():
    created = api_key_create(name="bi-warehouse", scopes=["read"])
    key = ApiKey.objects.get(name="bi-warehouse")
    assert created.plaintext.startswith(f"smplat_{key.prefix}_")
    assert key.hashed_key == hashlib.sha256(created.plaintext.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiKey.objects.values_list().get())
    assert created.plaintext not in stored
    assert created.plaintext.split("_", 2)[2] not in stored


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_a_named_key_works_in_either_header_within_its_scope(header):
    read = api_key_create(name="bi", scopes=["read"]).plaintext
    ingest = api_key_create(name="storefront", scopes=["ingest"]).plaintext

    assert _client(read, header).get(FOLLOW_UPS).status_code == 200
    assert _client(ingest, header).post(QUICK_ORDER, CAPTURE, format="json").status_code == 201


def test_a_key_outside_its_scope_gets_403_naming_the_scope():
    ingest = api_key_create(name="storefront", scopes=["ingest"]).plaintext
    response = _client(ingest).get(FOLLOW_UPS)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "scope_missing"
    assert "'read'" in error["message"]

    read = api_key_create(name="bi", scopes=["read"]).plaintext
    response = _client(read).post(QUICK_ORDER, CAPTURE, format="json")
    assert response.status_code == 403 and "'ingest'" in response.json()["error"]["message"]


def test_the_environment_key_keeps_every_scope(api_client):
    assert api_client.get(FOLLOW_UPS).status_code == 200
    assert api_client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    assert (
        api_client.get("/api/v1/reporting/onboarding/experiment-events?format=csv").status_code
        == 200
    )


def test_revocation_takes_effect_on_the_next_request():
    created = api_key_create(name="bi", scopes=["read"])
    client = _client(created.plaintext)
    assert client.get(FOLLOW_UPS).status_code == 200

    api_key_revoke(name_or_prefix="bi", actor="test")

    response = client.get(FOLLOW_UPS)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This API key has been revoked."


def test_an_expired_key_is_refused():
    created = api_key_create(
        name="temp", scopes=["read"], expires_at=timezone.now() + timedelta(hours=1)
    )
    assert _client(created.plaintext).get(FOLLOW_UPS).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = _client(created.plaintext).get(FOLLOW_UPS)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This API key has expired."


def test_rotation_keeps_the_old_and_the_new_key_valid_until_the_old_is_revoked():
    old = api_key_create(name="storefront-2026-01", scopes=["ingest"]).plaintext
    new = api_key_create(name="storefront-2026-02", scopes=["ingest"]).plaintext
    for key in (old, new):
        assert _client(key).post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    api_key_revoke(name_or_prefix="storefront-2026-01")
    assert _client(old).post(QUICK_ORDER, CAPTURE, format="json").status_code == 401
    assert _client(new).post(QUICK_ORDER, CAPTURE, format="json").status_code == 201


@pytest.mark.parametrize(
    "presented",
    [
        "smplat_00000000_" + "x" * 43,  # a prefix nobody has
        None,  # the right prefix with a wrong secret (filled in below)
        "not-even-our-format",
    ],
)
def test_unknown_and_wrong_keys_are_refused_alike(presented, django_assert_num_queries):
    real = api_key_create(name="bi", scopes=["read"])
    if presented is None:
        presented = real.plaintext[:-4] + "abcd"
    queries = 0 if presented == "not-even-our-format" else 1
    # One indexed lookup by prefix (none for a key of another shape) and one hash compare.
    with django_assert_num_queries(queries):
        verdict = api_key_verify(presented)
    assert verdict.key is None and verdict.problem == "Invalid API key."
    response = _client(presented).get(FOLLOW_UPS)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid API key."


def test_last_used_is_written_at_most_once_a_minute(django_assert_num_queries):
    created = api_key_create(name="bi", scopes=["read"])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with django_assert_num_queries(2):  # the lookup and the first write
            api_key_verify(created.plaintext)
        with django_assert_num_queries(1):  # the lookup only
            api_key_verify(created.plaintext)
    with (
        time_machine.travel(start + timedelta(seconds=30), tick=False),
        django_assert_num_queries(1),
    ):
        api_key_verify(created.plaintext)
    assert ApiKey.objects.get().last_used_at == start
    with (
        time_machine.travel(start + timedelta(seconds=61), tick=False),
        django_assert_num_queries(2),
    ):
        api_key_verify(created.plaintext)
    assert ApiKey.objects.get().last_used_at == start + timedelta(seconds=61)


# --- The api_key command ----------------------------------------------------------------------


def _command(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_creates_lists_and_revokes_keys():
    out, err = _command(
        "create", "bi-warehouse", "--scope", "read,export", "--expires", "2099-12-31"
    )
    plaintext = out.strip()
    key = ApiKey.objects.get()
    assert plaintext.startswith(f"smplat_{key.prefix}_")
    assert key.scopes == ["export", "read"]
    assert key.expires_at.isoformat() == "2099-12-31T00:00:00+00:00"
    assert "shown this once" in err and plaintext not in err
    assert _client(plaintext).get(FOLLOW_UPS).status_code == 200

    listing, _ = _command("list")
    assert "bi-warehouse" in listing and f"smplat_{key.prefix}" in listing
    assert plaintext not in listing and "active" in listing

    revoked, _ = _command("revoke", f"smplat_{key.prefix}")
    assert "Revoked API key bi-warehouse" in revoked
    assert _client(plaintext).get(FOLLOW_UPS).status_code == 401
    assert "revoked" in _command("list")[0]
    assert list(AuditEntry.objects.order_by("id").values_list("action", "target")) == [
        ("api_key.create", "api_key:bi-warehouse"),
        ("api_key.revoke", "api_key:bi-warehouse"),
    ]
    assert AuditEntry.objects.first().actor.startswith("manage.py")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "x", "--scope", "admin"], "Choose from"),
        (["create", "x", "--scope", "read", "--expires", "tomorrow"], "--expires"),
        (["create", "x", "--scope", "read", "--expires", "2001-01-01"], "future"),
        (["create", "bad name!", "--scope", "read"], "key name"),
        (["revoke", "nobody"], "No active"),
    ],
)
def test_the_command_refuses_bad_input_and_changes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        _command(*args)
    assert not ApiKey.objects.exists()


def test_two_active_keys_cannot_share_a_name_but_a_revoked_name_can_be_reused():
    _command("create", "bi", "--scope", "read")
    with pytest.raises(CommandError, match="already named"):
        _command("create", "bi", "--scope", "read")
    _command("revoke", "bi")
    _command("create", "bi", "--scope", "read")
    assert ApiKey.objects.filter(name="bi").count() == 2


# --- The admin --------------------------------------------------------------------------------


def _csrf_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_create_a_key_in_the_admin_and_see_it_once(alice):
    client = _csrf_client(alice)
    response = client.post(
        "/admin/api/apikey/add/",
        {"name": "storefront", "scopes": ["ingest"], "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    key = ApiKey.objects.get()
    page = response.content.decode()
    start = page.index('id="api-key-plaintext"')
    plaintext = page[page.index(">", start) + 1 : page.index("</code>", start)]
    assert plaintext.startswith(f"smplat_{key.prefix}_")
    assert "no-store" in response["Cache-Control"]
    assert _client(plaintext).post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    # Never again: neither the list nor the key's page shows it.
    for url in ("/admin/api/apikey/", f"/admin/api/apikey/{key.pk}/change/"):
        body = client.get(url).content.decode()
        assert f"smplat_{key.prefix}" in body and plaintext not in body
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.address) == ("alice", "api_key.create", "127.0.0.1")


def test_the_expiry_input_says_it_is_in_utc(alice):
    page = _csrf_client(alice).get("/admin/api/apikey/add/").content.decode()
    start = page.index("field-expires_at")
    row = page[start : page.index('class="form-row', start)]  # the expiry's own form row
    assert 'name="expires_at_1"' in row and "Date and time in UTC." in row


def test_the_admin_refuses_a_past_expiry_and_a_taken_name(alice):
    api_key_create(name="storefront", scopes=["ingest"])
    client = _csrf_client(alice)
    response = client.post(
        "/admin/api/apikey/add/",
        {
            "name": "storefront",
            "scopes": ["ingest"],
            "expires_at_0": "2001-01-01",
            "expires_at_1": "00:00",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The expiry must be in the future." in page and "api-key-plaintext" not in page
    assert ApiKey.objects.count() == 1


def test_staff_revoke_keys_with_the_admin_action(alice):
    created = api_key_create(name="storefront", scopes=["ingest"])
    client = _csrf_client(alice)
    response = client.post(
        "/admin/api/apikey/",
        {"action": "revoke_selected", "_selected_action": [created.key.pk]},
    )
    assert response.status_code == 302
    assert ApiKey.objects.get().revoked_by == "alice"
    assert _client(created.plaintext).post(QUICK_ORDER, CAPTURE, format="json").status_code == 401
    assert AuditEntry.objects.filter(action="api_key.revoke", actor="alice").exists()


def test_staff_without_the_permission_cannot_see_or_create_keys(bob):
    client = _csrf_client(bob)
    assert client.get("/admin/api/apikey/").status_code == 403
    assert (
        client.post("/admin/api/apikey/add/", {"name": "x", "scopes": ["read"]}).status_code == 403
    )
    bob.user_permissions.add(Permission.objects.get(codename="view_apikey"))
    assert (
        _csrf_client(type(bob).objects.get(pk=bob.pk)).get("/admin/api/apikey/").status_code == 200
    )
    assert not ApiKey.objects.exists()
