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
    assert 1 <= int(refused.headers["Retry-After"]) <= 66
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


def test_the_window_reopens_when_retry_after_says_and_not_before(settings):
    settings.API_INGEST_RATE_PER_KEY = (1, 60)
    client = _keyed(api_key_create(name="k", scopes=["ingest"]).plaintext)
    start = timezone.now().replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False):
        assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
        refused = client.post(QUICK_ORDER, CAPTURE, format="json")
    # The request sits in the 6-second slice from :00, which leaves the window at 1:06.
    assert refused.status_code == 429 and refused["Retry-After"] == "61"
    with time_machine.travel(start + timezone.timedelta(seconds=60), tick=False):
        assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 429
    with time_machine.travel(start + timezone.timedelta(seconds=61), tick=False):
        assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201


def test_a_burst_across_a_minute_boundary_is_refused(settings):
    """Reproduces CI's failure: three requests at 10:42:59.95 and a fourth at 10:43:00.05
    under a limit of three a minute; one fixed window per minute let the fourth in."""
    settings.API_INGEST_RATE_PER_KEY = (3, 60)
    client = _keyed(api_key_create(name="k", scopes=["ingest"]).plaintext)
    boundary = timezone.now().replace(second=0, microsecond=0) + timezone.timedelta(minutes=1)
    with time_machine.travel(boundary - timezone.timedelta(milliseconds=50), tick=False):
        for _ in range(3):
            assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    with time_machine.travel(boundary + timezone.timedelta(milliseconds=50), tick=False):
        refused = client.post(QUICK_ORDER, CAPTURE, format="json")
    assert refused.status_code == 429
    # The three leave with their slice (:54 to :00), 66 seconds after it opened.
    assert refused["Retry-After"] == "60"
    assert QuickOrderEvent.objects.count() == 3


def test_refused_requests_do_not_extend_the_wait(settings):
    settings.API_INGEST_RATE_PER_KEY = (2, 60)
    client = _keyed(api_key_create(name="k", scopes=["ingest"]).plaintext)
    start = timezone.now().replace(second=1, microsecond=0)
    with time_machine.travel(start, tick=False):
        for _ in range(2):
            assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    # A client hammering for the next minute and a half is refused throughout...
    for second in range(1, 65, 3):
        with time_machine.travel(start + timezone.timedelta(seconds=second), tick=False):
            assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 429
    # ...and let in when the first slice leaves, as if it had not retried at all.
    with time_machine.travel(start + timezone.timedelta(seconds=65), tick=False):
        assert client.post(QUICK_ORDER, CAPTURE, format="json").status_code == 201
    assert QuickOrderEvent.objects.count() == 3


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
