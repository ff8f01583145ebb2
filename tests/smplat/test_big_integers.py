"""Integers beyond 64 bits in a JSON body stay exact on every route that takes JSON: stored
as sent in jsonb, echoed and exported digit for digit, never turned into a float."""

from __future__ import annotations

import json
import uuid

import pytest

from telemetry.models import GuardrailWorkflowEvent, QuickOrderEvent

pytestmark = pytest.mark.django_db

BIG = 123456789012345678901234567890
# Past orjson's range on either side, one nested in a list, and the largest it reads exactly.
METADATA = {"big": BIG, "negative": -(2**63) - 1, "list": [2**64, 1], "edge": 2**64 - 1}


def post(api_client, path: str, body: dict):
    return api_client.post(path, data=json.dumps(body), content_type="application/json")


def assert_exact(metadata: dict) -> None:
    assert metadata == METADATA
    assert all(type(value) is int for value in (metadata["big"], metadata["negative"]))


CAPTURES = [
    (
        "/api/telemetry/quick-order",
        {"eventName": "quick_order.start", "productId": "p", "productTitle": "P"},
        lambda body: body["metadata"],
    ),
    (
        "/api/telemetry",
        {"name": "guardrail.workflow", "workflowAction": "pause"},
        lambda body: body["metadata"],
    ),
    (
        "/api/v1/analytics/offer-events",
        {"offerSlug": "bundle", "eventType": "impression"},
        lambda body: body["metadata"],
    ),
    (
        "/api/v1/analytics/onboarding-events",
        {"orderId": str(uuid.uuid4()), "eventType": "viewed"},
        lambda body: body["event"]["metadata"],
    ),
]


@pytest.mark.parametrize(("path", "body", "echoed"), CAPTURES, ids=[c[0] for c in CAPTURES])
def test_integers_beyond_64_bits_in_metadata_are_kept_exact(api_client, path, body, echoed):
    response = post(api_client, path, {**body, "metadata": METADATA})
    assert response.status_code == 201, response.content
    assert str(BIG).encode() in response.content and b"e+29" not in response.content
    assert_exact(echoed(json.loads(response.content)))


def test_the_window_exports_write_them_back_digit_for_digit(api_client):
    quick_order, workflow = CAPTURES[0][1], CAPTURES[1][1]
    post(api_client, "/api/telemetry/quick-order", {**quick_order, "metadata": METADATA})
    post(api_client, "/api/telemetry", {**workflow, "metadata": METADATA})

    assert_exact(QuickOrderEvent.objects.get().metadata)
    assert_exact(GuardrailWorkflowEvent.objects.get().metadata)
    for path in ("/api/telemetry/quick-order/export", "/api/telemetry/guardrail-workflow/export"):
        (line,) = b"".join(api_client.get(path).streaming_content).splitlines()
        assert_exact(json.loads(line)["metadata"])


def test_a_big_integer_where_text_is_expected_is_a_400_naming_the_field(api_client):
    follow_up = {"providerId": "prov-1", "providerName": "P", "action": "pause"}
    response = post(
        api_client, "/api/v1/reporting/guardrails/followups", {**follow_up, "notes": BIG}
    )
    assert response.status_code == 400
    assert "notes" in response.json()["error"]["fields"]
    response = post(
        api_client,
        "/api/v1/reporting/guardrails/followups",
        {**follow_up, "platformContext": {"id": BIG}},
    )
    assert response.status_code == 400
    assert "id" in response.json()["error"]["fields"]["platformContext"]


def test_an_integer_beyond_a_doubles_range_is_a_400_and_stores_nothing(api_client):
    body = b'{"eventName": "quick_order.start", "productId": "p", "productTitle": "P", '
    body += b'"metadata": {"n": ' + b"9" * 400 + b"}}"
    response = api_client.post(
        "/api/telemetry/quick-order", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert not QuickOrderEvent.objects.exists()
