"""Every route's real responses, null-carrying data and errors included, validate against the
schema served at /api/schema/ with openapi-core (a validator independent of the generator), so
a client generated from the schema accepts what the site really sends."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils.crypto import get_random_string
from openapi_core import Config, OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from reports.models import ProviderAutomationRun

pytestmark = pytest.mark.django_db

FOLLOW_UPS = "/api/v1/reporting/guardrails/followups"
RUN_NOW = "/api/reporting/guardrail-followups/export"
SEGMENT = {
    "slug": "spring-pricing",
    "variantKey": "b",
    "variantName": None,
    "isControl": False,
    "status": None,
    "featureFlagKey": None,
    "assignmentStrategy": None,
}


@pytest.fixture(autouse=True)
def nothing_configured(settings):
    for name in dir(settings):
        if name.endswith(("_STATUS_URL", "_STATUS_S3_URI", "_WORKFLOW_URL", "_TRIGGER_URL")):
            setattr(settings, name, "")
    settings.GITHUB_RUN_ID = ""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def served_schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.fixture
def openapi(served_schema) -> OpenAPI:
    # The text bodies (NDJSON, CSV) are read as a client reads them: UTF-8 text, which
    # openapi-core otherwise hands to the schema as bytes.
    def text(body: bytes, charset: str = "utf-8") -> str:
        return body.decode(charset)

    text_types = {kind: text for kind in ("application/x-ndjson", "text/csv")}
    return OpenAPI.from_dict(
        served_schema, config=Config(extra_media_type_deserializers=text_types)
    )


def keyed(settings) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {settings.CHECKOUT_API_KEY}")


def staff(alice) -> tuple[Client, dict]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    return client, {"HTTP_X_CSRFTOKEN": token}


def post_json(client: Client, path: str, body: dict | None, **extra):
    # A run-now POST has no body: an empty one, not a multipart form the CSRF check would
    # parse (and openapi-core could no longer read).
    data = "" if body is None else json.dumps(body)
    return client.post(path, data, content_type="application/json", **extra)


def test_every_response_of_every_route_validates_against_the_served_schema(
    openapi, served_schema, settings, alice, tmp_path, s3, httpserver
):
    api = keyed(settings)
    order_id = str(uuid.uuid4())
    responses = [
        # Captures, with every nullable field sent as null.
        post_json(
            api,
            "/api/telemetry/quick-order",
            {
                "eventName": "quick_order.start",
                "sessionId": None,
                "productId": "p-1",
                "productTitle": "Followers",
                "platformContext": None,
            },
        ),
        post_json(
            api,
            "/api/telemetry",
            {
                "name": "guardrail.workflow",
                "workflowAction": "pause",
                "providerId": None,
                "providerName": None,
                "guardrail": None,
            },
        ),
        post_json(
            api,
            "/api/telemetry",
            {"name": "guardrail.workflow", "workflowAction": "x", "guardrail": {}},
        ),
        post_json(
            api,
            "/api/v1/analytics/offer-events",
            {"offerSlug": "bundle", "eventType": "impression", "orderId": None, "sessionId": None},
        ),
        post_json(
            api,
            "/api/v1/analytics/onboarding-events",
            {
                "orderId": order_id,
                "orderNumber": None,
                "eventType": "assigned",
                "taskKey": None,
                "completed": None,
                "metadata": {"pricing_experiment_segment": SEGMENT},
            },
        ),
        post_json(
            api,
            FOLLOW_UPS,
            {
                "providerId": "prov-1",
                "providerName": "Provider",
                "action": "pause",
                "notes": None,
                "platformContext": None,
                "conversionCursor": None,
                "conversionHref": None,
            },
        ),
        post_json(
            api,
            FOLLOW_UPS,
            {
                "providerId": "prov-1",
                "providerName": "Provider",
                "action": "resume",
                "platformContext": {"id": None, "label": "Shop", "handle": None, "type": None},
            },
        ),
        # Reads of what was just written (nulls inside), and their errors.
        api.get(FOLLOW_UPS),
        api.get(FOLLOW_UPS, {"limit": "0"}),
        api.get(f"/api/v1/orders/{order_id}/onboarding"),
        api.get(f"/api/v1/orders/{uuid.uuid4()}/onboarding"),
        api.get("/api/v1/reporting/onboarding/experiment-events"),
        api.get("/api/v1/reporting/onboarding/experiment-events", {"format": "csv"}),
        api.get("/api/v1/reporting/onboarding/experiment-events", {"cursor": "yesterday"}),
        api.get("/api/v1/fulfillment/providers/automation/status/history"),
        api.get("/api/telemetry/quick-order/export"),
        api.get("/api/telemetry/quick-order/export", {"limit": "x"}),
        api.get("/api/telemetry/guardrail-workflow/export", {"limit": "1"}),
        # Capture errors: bad field, not JSON, too large, no key.
        post_json(api, "/api/telemetry/quick-order", {"eventName": "nope"}),
        api.post("/api/v1/analytics/offer-events", "x", content_type="text/plain"),
        Client().get(FOLLOW_UPS),
    ]
    ProviderAutomationRun.objects.create(kind="alert", summary={"note": None})
    responses.append(api.get("/api/v1/fulfillment/providers/automation/status/history"))

    settings.API_MAX_BODY_BYTES = 100
    responses.append(post_json(api, FOLLOW_UPS, {"notes": "n" * 200}))
    # Past the key's rate: the capture routes' 429.
    settings.API_INGEST_RATE_PER_KEY = (1, 60)
    capture = {"eventName": "quick_order.start", "productId": "p-1", "productTitle": "F"}
    responses += [post_json(api, "/api/telemetry/quick-order", capture) for _ in range(2)]

    # The staff routes: nothing exported yet (404), not configured (409), then configured.
    operator, csrf = staff(alice)
    responses += [
        operator.get(RUN_NOW),
        operator.get("/api/reporting/quick-order-export"),
        operator.get("/api/reporting/guardrail-workflow-export"),
        operator.get("/api/reporting/onboarding-segments/export"),
        post_json(operator, RUN_NOW, None, **csrf),
        Client().get("/api/reporting/quick-order-export"),
    ]
    httpserver.expect_request("/dispatch", method="POST").respond_with_json({}, status=401)
    settings.GUARDRAIL_EXPORT_TRIGGER_URL = httpserver.url_for("/dispatch")
    settings.GUARDRAIL_EXPORT_TRIGGER_TOKEN = "refused"
    responses.append(post_json(operator, RUN_NOW, None, **csrf))
    settings.GUARDRAIL_EXPORT_TRIGGER_URL = ""
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "out.ndjson")
    responses += [post_json(operator, RUN_NOW, None, **csrf) for _ in range(2)]
    httpserver.expect_request("/status.json").respond_with_json(
        {"syncedAt": None, "events": 2, "downloadUrl": "http://169.254.169.254/latest/"}
    )
    settings.QUICK_ORDER_EXPORT_STATUS_URL = httpserver.url_for("/status.json")
    responses.append(operator.get("/api/reporting/quick-order-export"))
    s3.put_object(Bucket=s3.bucket, Key="latest.ndjson", Body=b'{"followUpId": "a"}\n')
    status = {"cursor": None, "rows": 1, "downloadUrl": f"s3://{s3.bucket}/latest.ndjson"}
    s3.put_object(Bucket=s3.bucket, Key="status.json", Body=json.dumps(status).encode())
    settings.GUARDRAIL_EXPORT_STATUS_URL = f"s3://{s3.bucket}/status.json"
    responses.append(operator.get(RUN_NOW))

    seen = set()
    failures = []
    for response in responses:
        request = response.wsgi_request
        seen.add((request.method, request.path, response.status_code))
        try:
            openapi.validate_response(
                DjangoOpenAPIRequest(request), DjangoOpenAPIResponse(response)
            )
        except Exception as exc:  # collect every failure, not only the first
            causes = [str(exc), *(str(cause) for cause in getattr(exc, "schema_errors", []))]
            if exc.__cause__ is not None:
                causes.append(str(exc.__cause__))
                causes += [str(e) for e in getattr(exc.__cause__, "schema_errors", [])]
            failures.append(f"{request.method} {request.path} {response.status_code}: {causes}")
    assert not failures, "\n".join(failures)

    # Every operation of the schema was exercised, with its success and its documented errors.
    operations = {
        (method.upper(), path) for path, item in served_schema["paths"].items() for method in item
    }
    templated = {
        (method, "/api/v1/orders/{order_id}/onboarding" if "/orders/" in path else path)
        for method, path, _ in seen
    }
    assert operations <= templated, operations - templated
    assert {status for *_, status in seen} >= {
        200,
        201,
        202,
        400,
        401,
        403,
        404,
        409,
        413,
        415,
        429,
        502,
    }
