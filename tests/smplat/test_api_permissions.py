"""Staff sessions on the API need the model permissions the operator pages need: bob (staff,
no permission) gets nothing through the API that the pages refuse him."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from smplat.api.permissions import IsApiClientOrStaff, IsStaff

pytestmark = pytest.mark.django_db

ORDER = str(uuid.uuid4())
# (method, path, body, the permissions that open it to a staff session)
ROUTES = [
    ("get", "/api/v1/reporting/guardrails/followups", None, ["view_guardrailfollowup"]),
    (
        "post",
        "/api/v1/reporting/guardrails/followups",
        {"providerId": "p", "providerName": "P", "action": "pause"},
        ["add_guardrailfollowup"],
    ),
    (
        "get",
        "/api/v1/reporting/onboarding/experiment-events",
        None,
        ["view_pricingexperimentsegment"],
    ),
    (
        "get",
        "/api/v1/reporting/onboarding/experiment-events?format=csv",
        None,
        ["view_pricingexperimentsegment"],
    ),
    (
        "post",
        "/api/v1/analytics/onboarding-events",
        {"orderId": ORDER, "eventType": "journey_started"},
        ["add_onboardingjourneyevent"],
    ),
    (
        "post",
        "/api/v1/analytics/offer-events",
        {"offerSlug": "priority-delivery", "eventType": "cta_click", "orderId": ORDER},
        ["add_checkoutofferevent"],
    ),
    ("get", f"/api/v1/orders/{ORDER}/onboarding", None, ["view_onboardingjourney"]),
    (
        "get",
        "/api/v1/fulfillment/providers/automation/status/history",
        None,
        ["view_providerautomationrun"],
    ),
    (
        "post",
        "/api/telemetry/quick-order",
        {"name": "quick_order.start", "productId": "p1", "productTitle": "P"},
        ["add_quickorderevent"],
    ),
    ("get", "/api/telemetry/quick-order/export", None, ["view_quickorderevent"]),
    ("get", "/api/telemetry/guardrail-workflow/export", None, ["view_guardrailworkflowevent"]),
    (
        "get",
        "/api/reporting/guardrail-followups/export",
        None,
        ["view_exportrun", "view_guardrailfollowup"],
    ),
    ("post", "/api/reporting/guardrail-followups/export", {}, ["view_exportrun", "add_exportrun"]),
    ("get", "/api/reporting/quick-order-export", None, ["view_exportrun", "view_quickorderevent"]),
    (
        "get",
        "/api/reporting/guardrail-workflow-export",
        None,
        ["view_exportrun", "view_guardrailworkflowevent"],
    ),
    (
        "post",
        "/api/telemetry",
        {"name": "guardrail.workflow", "workflowAction": "attachment.upload", "source": "admin"},
        ["add_guardrailworkflowevent"],
    ),
]


def _call(client: APIClient, method: str, path: str, body):
    if method == "get":
        return client.get(path)
    return client.post(path, body, format="json")


def _grant(user, codenames: list[str]):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # a fresh instance: no cached permissions


@pytest.mark.parametrize(("method", "path", "body", "codenames"), ROUTES)
def test_staff_without_the_permission_is_refused_and_with_it_gets_through(
    bob, method, path, body, codenames
):
    client = APIClient()
    client.force_login(bob)
    response = _call(client, method, path, body)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "permission_denied"

    if len(codenames) > 1:  # one of two is not enough
        client.force_login(_grant(bob, codenames[:1]))
        assert _call(client, method, path, body).status_code == 403

    client.force_login(_grant(bob, codenames))
    response = _call(client, method, path, body)
    # Through the permission check: the route answers for itself (an empty window is a 404,
    # an artifact that is not configured a 404, a dispatched run a 202, and so on).
    assert response.status_code != 403, response.content


def _api_views(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if isinstance(view, type) and issubclass(view, APIView):
                yield prefix + str(pattern.pattern), view


def test_every_api_route_names_the_staff_permissions_of_each_method():
    """A route without them refuses every staff session: a new route must say who may."""
    checked = 0
    for route, view in _api_views():
        permissions = view.permission_classes
        if not any(issubclass(p, (IsApiClientOrStaff, IsStaff)) for p in permissions):
            continue  # the schema and its docs have their own permissions
        methods = {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)}
        assert methods <= set(getattr(view, "staff_permissions", {})), route
        checked += 1
    assert checked >= 12
