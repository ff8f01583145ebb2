"""Capture routes and their NDJSON window exports."""

import json
import threading

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient

from telemetry.models import (
    WINDOW_TRIM_EVERY,
    WINDOW_TRIM_SLACK,
    GuardrailWorkflowEvent,
    QuickOrderEvent,
)

QO_URL = "/api/telemetry/quick-order"
QO_EXPORT = "/api/telemetry/quick-order/export"
TELEMETRY_URL = "/api/telemetry"
GW_EXPORT = "/api/telemetry/guardrail-workflow/export"
KEY = "test-checkout-api-key"


def _quick_order(**overrides) -> dict:
    body = {
        "eventName": "quick_order.start",
        "sessionId": "sess_1",
        "productId": "ig-followers-1k",
        "productTitle": "Instagram Followers – 1,000",
        "platformContext": "instagram",
    }
    body.update(overrides)
    return body


def _lines(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    assert body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]


@pytest.mark.django_db
def test_a_captured_event_is_exported_with_the_spec_fields_and_headers(api_client):
    response = api_client.post(
        QO_URL,
        _quick_order(
            eventName="quick_order.abort",
            metadata={"reason": "payment_declined"},
            recordedAt="2026-01-22T04:00:00Z",
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    event_id = response.json()["eventId"]

    export = api_client.get(QO_EXPORT)
    assert export.status_code == 200
    assert export["Content-Type"] == "application/x-ndjson"
    assert export["Cache-Control"] == "no-store"
    assert export["X-Quick-Order-Events"] == "1"
    [line] = _lines(export)
    assert line == {
        "eventId": event_id,
        "sessionId": "sess_1",
        "eventName": "quick_order.abort",
        "productId": "ig-followers-1k",
        "productTitle": "Instagram Followers – 1,000",
        "platformContext": "instagram",
        "recordedAt": "2026-01-22T04:00:00.000000Z",
        "metadata": {"reason": "payment_declined"},
    }


@pytest.mark.django_db
def test_an_empty_window_is_a_404(api_client):
    response = api_client.get(QO_EXPORT)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_events"
    assert api_client.get(GW_EXPORT).status_code == 404


@pytest.mark.django_db
def test_limit_returns_the_newest_rows_oldest_first(api_client):
    ids = [
        api_client.post(QO_URL, _quick_order(sessionId=f"s{i}"), format="json").json()["eventId"]
        for i in range(8)
    ]
    export = api_client.get(QO_EXPORT, {"limit": 3})
    assert export["X-Quick-Order-Events"] == "3"
    assert [line["eventId"] for line in _lines(export)] == ids[-3:]
    whole = api_client.get(QO_EXPORT, {"limit": 6000})
    assert [line["eventId"] for line in _lines(whole)] == ids


@pytest.mark.django_db
@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5"])
def test_a_bad_limit_is_a_400(api_client, limit):
    api_client.post(QO_URL, _quick_order(), format="json")
    response = api_client.get(QO_EXPORT, {"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_the_window_keeps_the_newest_5000(api_client):
    QuickOrderEvent.objects.bulk_create(
        QuickOrderEvent(event_name="quick_order.start", product_id="old", product_title="Old")
        for _ in range(QuickOrderEvent.WINDOW + WINDOW_TRIM_SLACK)
    )
    newest = [
        api_client.post(QO_URL, _quick_order(), format="json").json()["eventId"] for _ in range(3)
    ]
    export = api_client.get(QO_EXPORT)
    assert export["X-Quick-Order-Events"] == "5000"
    lines = _lines(export)
    assert len(lines) == 5000
    assert [line["eventId"] for line in lines[-3:]] == newest
    # Rows beyond window + slack are deleted every WINDOW_TRIM_EVERY arrivals: the table does
    # not grow without bound.
    bound = QuickOrderEvent.WINDOW + WINDOW_TRIM_SLACK + WINDOW_TRIM_EVERY - 1
    for _ in range(WINDOW_TRIM_EVERY):
        api_client.post(QO_URL, _quick_order(), format="json")
        assert QuickOrderEvent.objects.count() <= bound
    assert QuickOrderEvent.objects.count() < bound + 3  # at least one trim ran


@pytest.mark.django_db(transaction=True)
def test_concurrent_capture_keeps_the_window_exact_and_loses_no_accepted_event():
    QuickOrderEvent.objects.bulk_create(
        QuickOrderEvent(event_name="quick_order.start", product_id="old", product_title="Old")
        for _ in range(QuickOrderEvent.WINDOW)
    )
    accepted: list[str] = []
    failures: list[object] = []
    lock = threading.Lock()

    def writer(thread: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {KEY}")
        try:
            for i in range(60):
                response = client.post(
                    QO_URL, _quick_order(sessionId=f"t{thread}-{i}"), format="json"
                )
                if response.status_code != 201:
                    failures.append(response.content)
                    continue
                with lock:
                    accepted.append(response.json()["eventId"])
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures
    assert len(accepted) == 360
    window = list(
        QuickOrderEvent.objects.window().order_by("id").values_list("event_id", flat=True)
    )
    assert len(window) == QuickOrderEvent.WINDOW
    # Every accepted event is among the newest 5 000, so every one of them is in the window.
    assert {str(e) for e in window[-360:]} == set(accepted)


@pytest.mark.django_db
def test_guardrail_workflow_capture_and_export(api_client):
    body = {
        "name": "guardrail.workflow",
        "providerId": "prov-1",
        "providerName": "InstaBoost",
        "workflowAction": "attachment.upload",
        "source": "admin",
        "guardrail": {"platformSlug": "instagram", "guardrailStatus": "warning"},
        "metadata": {"attachmentId": "att_1", "sizeBytes": 2048},
    }
    created = api_client.post(TELEMETRY_URL, body, format="json")
    assert created.status_code == 201, created.content
    export = api_client.get(GW_EXPORT)
    assert export["X-Guardrail-Workflow-Events"] == "1"
    [line] = _lines(export)
    assert line["eventId"] == created.json()["eventId"]
    assert {k: line[k] for k in body} == body
    assert GuardrailWorkflowEvent.objects.get().guardrail_status == "warning"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (QO_URL, _quick_order(eventName="quick_order.refund"), "eventName"),
        (QO_URL, {k: v for k, v in _quick_order().items() if k != "productId"}, "productId"),
        (QO_URL, _quick_order(recordedAt="last tuesday"), "recordedAt"),
        (QO_URL, _quick_order(metadata=["not", "an", "object"]), "metadata"),
        (QO_URL, _quick_order(metadata={"reason": 42}, eventName="quick_order.abort"), "metadata"),
        (QO_URL, _quick_order(extra="field"), "extra"),
        (TELEMETRY_URL, {"name": "checkout.viewed", "workflowAction": "x"}, "name"),
        (TELEMETRY_URL, {"name": "guardrail.workflow"}, "workflowAction"),
        (
            TELEMETRY_URL,
            {"name": "guardrail.workflow", "workflowAction": "x", "source": "robot"},
            "source",
        ),
        (
            TELEMETRY_URL,
            {"name": "guardrail.workflow", "workflowAction": "x", "guardrail": {"status": "ok"}},
            "guardrail",
        ),
    ],
)
def test_bad_capture_bodies_are_a_400_and_store_nothing(api_client, url, body, field):
    response = api_client.post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not QuickOrderEvent.objects.exists() and not GuardrailWorkflowEvent.objects.exists()


@pytest.mark.django_db
def test_malformed_json_and_oversized_bodies_store_nothing(api_client):
    assert (
        api_client.post(QO_URL, data=b"{not json", content_type="application/json").status_code
        == 400
    )
    big = json.dumps(_quick_order(metadata={"blob": "x" * (1024 * 1024)}))
    response = api_client.post(QO_URL, data=big, content_type="application/json")
    assert response.status_code == 413
    assert not QuickOrderEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", [QO_URL, TELEMETRY_URL])
@pytest.mark.parametrize("depth", [65, 1000])  # 1 000: Python's json gave up before the insert
def test_metadata_nested_too_deep_is_a_400_and_stores_nothing(api_client, url, depth):
    fields = (
        _quick_order(metadata="NESTED")
        if url == QO_URL
        else {"name": "guardrail.workflow", "workflowAction": "x", "metadata": "NESTED"}
    )
    # Written as text: Python's own json cannot even encode 1 000 levels.
    nested = '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)
    body = json.dumps(fields).replace('"NESTED"', nested)
    response = api_client.post(url, data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "nested deeper than 64 levels" in response.json()["error"]["message"]
    assert not QuickOrderEvent.objects.exists() and not GuardrailWorkflowEvent.objects.exists()


@pytest.mark.django_db
def test_metadata_nested_64_levels_is_kept(api_client):
    nested: dict = {"leaf": [1]}
    for _ in range(61):
        nested = {"a": nested}
    response = api_client.post(QO_URL, _quick_order(metadata=nested), format="json")
    assert response.status_code == 201, response.content
    assert QuickOrderEvent.objects.get().metadata == nested


@pytest.mark.django_db
@pytest.mark.parametrize("url", [QO_URL, TELEMETRY_URL])
def test_capture_needs_the_key(anonymous_client, url):
    response = anonymous_client.post(url, _quick_order(), format="json")
    assert response.status_code == 401
    assert not QuickOrderEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", [QO_EXPORT, GW_EXPORT])
def test_exports_need_the_key_and_accept_x_api_key(anonymous_client, url):
    assert anonymous_client.get(url).status_code == 401
    assert anonymous_client.get(url, HTTP_X_API_KEY=KEY).status_code == 404  # key ok, window empty


@pytest.mark.django_db
def test_integers_beyond_64_bits_in_metadata_still_export(api_client):
    body = json.dumps(_quick_order(metadata={"orderValue": 2**70})).encode()
    assert api_client.post(QO_URL, data=body, content_type="application/json").status_code == 201
    [line] = _lines(api_client.get(QO_EXPORT))
    assert float(line["metadata"]["orderValue"]) == float(2**70)


@pytest.mark.django_db
def test_the_export_answers_a_client_that_accepts_only_ndjson(api_client):
    api_client.post(QO_URL, _quick_order(), format="json")
    response = api_client.get(QO_EXPORT, HTTP_ACCEPT="application/x-ndjson")
    assert response.status_code == 200
    assert len(_lines(response)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_count_header_and_the_body_agree_while_a_late_insert_commits(api_client):
    """An insert that took its id first and commits while the body is being read: in both
    the header and the body, or in neither."""
    for _ in range(3):
        api_client.post(QO_URL, _quick_order(), format="json")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params) as late:  # takes an id now, commits later
        late.execute(
            "INSERT INTO telemetry_quickorderevent (event_id, session_id, event_name,"
            " product_id, product_title, platform_context, recorded_at, metadata)"
            " VALUES (gen_random_uuid(), 's', 'quick_order.start', 'p', 'P', NULL, now(), '{}')"
        )
        api_client.post(QO_URL, _quick_order(), format="json")  # a newer id, committed

        export = api_client.get(QO_EXPORT)
        late.commit()
        lines = _lines(export)

    assert int(export["X-Quick-Order-Events"]) == len(lines) == 4
