"""Every API route against every kind of caller: anonymous, charlie (no staff), bob (staff
without permission), a key of each scope, a revoked key, an expired key; and CSRF on every
state change a session can make."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from smplat.api.services import api_key_create, api_key_revoke
from tests.smplat.test_api_permissions import ROUTES, _call

pytestmark = pytest.mark.django_db

# The scopes that open each route to a key, written out here (not read from the views) so a
# view that drifts fails this test. None: staff sessions only.
SCOPES = {
    ("get", "/api/v1/reporting/guardrails/followups"): {"read"},
    ("post", "/api/v1/reporting/guardrails/followups"): {"write"},
    ("get", "/api/v1/reporting/onboarding/experiment-events"): {"read", "export"},
    ("get", "/api/v1/reporting/onboarding/experiment-events?format=csv"): {"read", "export"},
    ("post", "/api/v1/analytics/onboarding-events"): {"ingest"},
    ("post", "/api/v1/analytics/offer-events"): {"ingest"},
    ("get", "/api/v1/fulfillment/providers/automation/status/history"): {"read"},
    ("post", "/api/telemetry/quick-order"): {"ingest"},
    ("get", "/api/telemetry/quick-order/export"): {"export", "read"},
    ("get", "/api/telemetry/guardrail-workflow/export"): {"export", "read"},
    ("post", "/api/telemetry"): {"ingest"},
    ("get", "/api/reporting/guardrail-followups/export"): None,
    ("post", "/api/reporting/guardrail-followups/export"): None,
    ("get", "/api/reporting/quick-order-export"): None,
    ("get", "/api/reporting/guardrail-workflow-export"): None,
}
SCOPE_NAMES = ["ingest", "read", "export", "write"]


def _scopes(method: str, path: str):
    if path.startswith("/api/v1/orders/"):
        return {"read"}
    return SCOPES[(method, path)]


def _keyed(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.mark.parametrize(("method", "path", "body", "codenames"), ROUTES)
def test_every_caller_gets_what_the_matrix_says(method, path, body, codenames, bob, charlie):
    scopes = _scopes(method, path)

    # Session-only routes answer 403 (no WWW-Authenticate scheme to offer), the others 401.
    refused = 403 if scopes is None else 401
    assert _call(APIClient(), method, path, body).status_code == refused
    for user in (charlie, bob):
        client = APIClient()
        client.force_login(user)
        assert _call(client, method, path, body).status_code == 403, user

    for scope in SCOPE_NAMES:
        key = api_key_create(name=f"k-{scope}", scopes=[scope]).plaintext
        response = _call(_keyed(key), method, path, body)
        if scopes is None:
            assert response.status_code == 403, (scope, response.content)  # sessions only
        elif scope in scopes:
            assert response.status_code not in (401, 403), (scope, response.content)
        else:
            assert response.status_code == 403, (scope, response.content)
            assert response.json()["error"]["code"] == "scope_missing"

    every = SCOPE_NAMES
    revoked = api_key_create(name="revoked", scopes=every).plaintext
    api_key_revoke(name_or_prefix="revoked")
    assert _call(_keyed(revoked), method, path, body).status_code == refused

    expiring = api_key_create(
        name="expiring", scopes=every, expires_at=timezone.now() + timedelta(minutes=5)
    ).plaintext
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert _call(_keyed(expiring), method, path, body).status_code == refused


def test_every_api_route_names_the_key_scopes_of_each_method_or_is_session_only():
    from reports.pages.apis import StaffSessionApi
    from tests.smplat.test_api_permissions import _api_views

    checked = 0
    for route, view in _api_views():
        if issubclass(view, StaffSessionApi) or not hasattr(view, "staff_permissions"):
            continue
        methods = {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)}
        assert methods <= set(getattr(view, "api_scopes", {})), route
        checked += 1
    assert checked >= 10


POSTS = [route for route in ROUTES if route[0] == "post"]


@pytest.mark.parametrize(("method", "path", "body", "codenames"), POSTS)
def test_a_session_post_without_the_csrf_token_is_refused(method, path, body, codenames, alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = _call(client, method, path, body)
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/api/apikey/add/", {"name": "x", "scopes": ["read"]}),
        ("/admin/api/apikey/", {"action": "revoke_selected", "_selected_action": ["1"]}),
        ("/admin/reports/cards/guardrail_followups/run/", {}),
        ("/admin/reports/follow-ups/", {"provider_id": "p", "provider_name": "P"}),
    ],
)
def test_operator_state_changes_need_the_csrf_token(path, data, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(path, data).status_code == 403
