"""The ingest routes answer 429 with Retry-After and the JSON error past their rate: per key
(or the key's own rate), per client address for staff sessions; other routes are not limited."""

from __future__ import annotations

import pytest
import requests
import time_machine
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from smplat.api.services import api_key_create
from telemetry.models import QuickOrderEvent

pytestmark = pytest.mark.django_db

QUICK_ORDER = "/api/telemetry/quick-order"
OFFER = "/api/v1/analytics/offer-events"
CAPTURE = {"eventName": "quick_order.start", "productId": "p1", "productTitle": "P"}


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def _keyed(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


def test_a_key_past_its_rate_gets_429_with_retry_after_and_nothing_is_stored(live_server, settings):
    settings.API_INGEST_RATE_PER_KEY = (3, 60)
    key = api_key_create(name="storefront", scopes=["ingest"]).plaintext
    url = live_server.url + QUICK_ORDER
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {key}"
        statuses = [http.post(url, json=CAPTURE, timeout=10).status_code for _ in range(3)]
        refused = http.post(url, json=CAPTURE, timeout=10)
    assert statuses == [201, 201, 201]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "throttled"
    assert QuickOrderEvent.objects.count() == 3


def test_each_key_has_its_own_counter_and_reads_are_not_limited(settings):
    settings.API_INGEST_RATE_PER_KEY = (2, 60)
    first = _keyed(api_key_create(name="a", scopes=["ingest", "read"]).plaintext)
    second = _keyed(api_key_create(name="b", scopes=["ingest"]).plaintext)
    for _ in range(2):
        assert first.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    assert first.post(QUICK_ORDER, CAPTURE, format="json").status_code == 429
    # Another route under the same key shares its budget; another key does not.
    assert (
        first.post(OFFER, {"offerSlug": "x", "eventType": "impression"}, format="json").status_code
        == 429
    )
    assert second.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    for _ in range(5):
        assert first.get("/api/v1/reporting/guardrails/followups").status_code == 200


def test_a_key_with_its_own_rate_uses_it(settings):
    settings.API_INGEST_RATE_PER_KEY = (1000, 60)
    client = _keyed(
        api_key_create(name="tight", scopes=["ingest"], ingest_rate_per_minute=1).plaintext
    )
    assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 429


def test_the_window_reopens_after_its_period(settings):
    settings.API_INGEST_RATE_PER_KEY = (1, 60)
    client = _keyed(api_key_create(name="k", scopes=["ingest"]).plaintext)
    start = timezone.now().replace(second=5)
    with time_machine.travel(start, tick=False):
        assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
        refused = client.post(QUICK_ORDER, CAPTURE, format="json")
        assert refused.status_code == 429 and refused["Retry-After"] == "55"
    with time_machine.travel(start.replace(second=0) + timezone.timedelta(minutes=1), tick=False):
        assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201


def test_staff_sessions_are_limited_per_client_address(alice, settings):
    settings.API_INGEST_RATE_PER_ADDRESS = (2, 60)
    client = APIClient()
    client.force_login(alice)
    for _ in range(2):
        assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 429
    other = APIClient(REMOTE_ADDR="10.0.0.9")
    other.force_login(alice)
    assert other.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(alice, settings):
    settings.API_INGEST_RATE_PER_ADDRESS = (1, 60)
    client = APIClient()
    client.force_login(alice)
    assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    forged = client.post(QUICK_ORDER, CAPTURE, format="json", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert forged.status_code == 429
