"""Onboarding ingest, the order's journey, experiment events (JSON and CSV) and offer events."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from telemetry.models import (
    CheckoutOfferEvent,
    OnboardingJourney,
    OnboardingJourneyEvent,
    PricingExperimentSegment,
)
from telemetry.rows import SEGMENT_CSV_HEADER
from telemetry.services import onboarding_event_record

pytestmark = pytest.mark.django_db

EVENTS_URL = "/api/v1/analytics/onboarding-events"
EXPERIMENTS_URL = "/api/v1/reporting/onboarding/experiment-events"
OFFERS_URL = "/api/v1/analytics/offer-events"
SPRING = {
    "slug": "spring-offer",
    "variantKey": "spring-15",
    "variantName": "15% off",
    "isControl": False,
    "status": "running",
    "featureFlagKey": "pricing_lab_spring",
    "assignmentStrategy": "sequential",
}
CONTROL = dict(SPRING, variantKey="control", variantName="Standard pricing", isControl=True)


def test_first_event_creates_the_journey_and_a_task_toggle_shows_in_the_checklist(api_client):
    order_id = str(uuid.uuid4())
    first = api_client.post(
        EVENTS_URL,
        {"orderId": order_id, "orderNumber": "SMP-1", "eventType": "journey_started"},
        format="json",
    )
    assert first.status_code == 201, first.content
    assert first.json()["journey"]["progress"] == {"completed": 0, "total": 5}

    done = api_client.post(
        EVENTS_URL,
        {
            "orderId": order_id,
            "eventType": "task_completed",
            "taskKey": "brand_assets",
            "completed": True,
        },
        format="json",
    )
    assert done.status_code == 201
    journey = api_client.get(f"/api/v1/orders/{order_id}/onboarding").json()
    checklist = {item["key"]: item for item in journey["checklist"]}
    assert (
        checklist["brand_assets"]["completed"] is True and checklist["brand_assets"]["completedAt"]
    )
    assert journey["orderNumber"] == "SMP-1"
    assert [e["eventType"] for e in journey["recentEvents"]] == [
        "task_completed",
        "journey_started",
    ]

    undone = api_client.post(
        EVENTS_URL,
        {
            "orderId": order_id,
            "eventType": "task_reopened",
            "taskKey": "brand_assets",
            "completed": False,
        },
        format="json",
    )
    assert undone.json()["journey"]["progress"]["completed"] == 0


def test_completing_every_task_completes_the_journey(api_client):
    order_id = str(uuid.uuid4())
    for key in [
        "account_handles",
        "targeting_brief",
        "brand_assets",
        "kickoff_call",
        "first_delivery_review",
    ]:
        response = api_client.post(
            EVENTS_URL,
            {"orderId": order_id, "eventType": "task_completed", "taskKey": key, "completed": True},
            format="json",
        )
    assert response.json()["journey"]["status"] == "completed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"eventType": "x"}, "orderId"),
        ({"orderId": "not-a-uuid", "eventType": "x"}, "orderId"),
        ({"orderId": str(uuid.uuid4())}, "eventType"),
        (
            {
                "orderId": str(uuid.uuid4()),
                "eventType": "x",
                "taskKey": "walk_the_dog",
                "completed": True,
            },
            "taskKey",
        ),
        ({"orderId": str(uuid.uuid4()), "eventType": "x", "completed": True}, "taskKey"),
        (
            {
                "orderId": str(uuid.uuid4()),
                "eventType": "x",
                "metadata": {"pricing_experiment_segment": {"slug": "s"}},
            },
            "metadata.pricing_experiment_segment.variantKey",
        ),
        (
            {
                "orderId": str(uuid.uuid4()),
                "eventType": "x",
                "metadata": {"pricing_experiment_segment": [SPRING, "oops"]},
            },
            "metadata.pricing_experiment_segment[1]",
        ),
        (
            {
                "orderId": str(uuid.uuid4()),
                "eventType": "x",
                "metadata": {"pricing_experiment_segment": dict(SPRING, isControl="yes")},
            },
            "metadata.pricing_experiment_segment.isControl",
        ),
        (  # longer than an index entry may be: refused, not a database error
            {
                "orderId": str(uuid.uuid4()),
                "eventType": "x",
                "metadata": {"pricing_experiment_segment": dict(SPRING, slug="s" * 3000)},
            },
            "metadata.pricing_experiment_segment.slug",
        ),
        (  # 33 000 would still fit in a 1 MiB body, and not in an event's positions
            {
                "orderId": str(uuid.uuid4()),
                "eventType": "x",
                "metadata": {
                    "pricing_experiment_segment": [{"slug": "s", "variantKey": "v"}] * 101
                },
            },
            "metadata.pricing_experiment_segment",
        ),
    ],
)
def test_a_refused_onboarding_event_leaves_no_journey_and_no_event(api_client, body, field):
    response = api_client.post(EVENTS_URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not OnboardingJourney.objects.exists()
    assert not OnboardingJourneyEvent.objects.exists()


def test_unknown_order_is_a_404_and_a_malformed_order_id_too(api_client):
    assert api_client.get(f"/api/v1/orders/{uuid.uuid4()}/onboarding").status_code == 404
    response = api_client.get("/api/v1/orders/12345/onboarding")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_segment_list_gives_one_experiment_row_each_and_the_metadata_is_kept_as_sent(api_client):
    order_id = str(uuid.uuid4())
    bundle = dict(SPRING, slug="bundle-anchor", variantKey="anchor-3pack")
    metadata = {"surface": "checkout", "pricing_experiment_segment": [SPRING, bundle]}
    api_client.post(
        EVENTS_URL,
        {
            "orderId": order_id,
            "orderNumber": "SMP-9",
            "eventType": "journey_started",
            "metadata": metadata,
        },
        format="json",
    )
    assert OnboardingJourneyEvent.objects.get().metadata == metadata

    events = api_client.get(EXPERIMENTS_URL).json()["events"]
    assert [(e["slug"], e["variantKey"]) for e in events] == [
        ("spring-offer", "spring-15"),
        ("bundle-anchor", "anchor-3pack"),
    ]
    assert events[0] | {"eventId": "-", "journeyId": "-", "recordedAt": "-", "segmentId": 0} == {
        "eventId": "-",
        "journeyId": "-",
        "orderId": order_id,
        "orderNumber": "SMP-9",
        "slug": "spring-offer",
        "variantKey": "spring-15",
        "variantName": "15% off",
        "isControl": False,
        "status": "running",
        "featureFlagKey": "pricing_lab_spring",
        "assignmentStrategy": "sequential",
        "recordedAt": "-",
        "segmentId": 0,
    }
    # One event, two experiments: eventId repeats, segmentId (the warehouse key) does not.
    assert events[0]["eventId"] == events[1]["eventId"]
    segment_ids = [e["segmentId"] for e in events]
    assert segment_ids == sorted(PricingExperimentSegment.objects.values_list("id", flat=True))


def _segments(n: int, *, same_second: int = 3) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(n):
        onboarding_event_record(
            order_id=uuid.uuid4(),
            event_type="journey_started",
            metadata={
                "pricing_experiment_segment": CONTROL
                if i % 4 == 0
                else dict(SPRING, variantKey=f"v{i % 3}")
            },
            recorded_at=t0 + timedelta(seconds=i // same_second),
        )


def test_walking_experiment_pages_returns_every_row_once(api_client):
    _segments(90)
    seen, cursor = [], None
    while True:
        body = api_client.get(
            EXPERIMENTS_URL, {"limit": 7, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [(e["eventId"], e["slug"]) for e in body["events"]]
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 90


def test_filters_by_slug_variant_and_control(api_client):
    _segments(24)
    control = api_client.get(EXPERIMENTS_URL, {"isControl": "true", "limit": 100}).json()["events"]
    assert len(control) == 6 and all(e["isControl"] for e in control)
    v1 = api_client.get(
        EXPERIMENTS_URL, {"variantKey": "v1", "slug": "spring-offer", "limit": 100}
    ).json()["events"]
    assert v1 and {e["variantKey"] for e in v1} == {"v1"}
    assert api_client.get(EXPERIMENTS_URL, {"slug": "nope"}).json() == {
        "events": [],
        "nextCursor": None,
    }


def test_csv_has_the_data_lake_columns_and_the_same_rows(api_client):
    _segments(30)
    json_rows = api_client.get(EXPERIMENTS_URL, {"limit": 500}).json()["events"]
    response = api_client.get(EXPERIMENTS_URL, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="onboarding-experiment-events.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert tuple(rows[0].keys()) == SEGMENT_CSV_HEADER
    assert [r["event_id"] for r in rows] == [e["eventId"] for e in json_rows]
    assert [r["is_control"] for r in rows] == [
        "true" if e["isControl"] else "false" for e in json_rows
    ]
    assert rows[0]["recorded_at"] == json_rows[0]["recordedAt"]


def test_csv_with_a_limit_returns_that_many_rows(api_client):
    _segments(10)
    body = b"".join(
        api_client.get(EXPERIMENTS_URL, {"format": "csv", "limit": 4}).streaming_content
    ).decode()
    assert len(body.strip().splitlines()) == 5  # header + 4


def test_csv_cells_that_would_run_as_formulas_are_neutralised(api_client):
    onboarding_event_record(
        order_id=uuid.uuid4(),
        order_number='=HYPERLINK("http://evil")',
        event_type="journey_started",
        metadata={
            "pricing_experiment_segment": dict(
                SPRING, variantName="+1 cheaper", variantKey="@v", status="\n=1+2"
            )
        },
    )
    body = b"".join(api_client.get(EXPERIMENTS_URL, {"format": "csv"}).streaming_content).decode()
    [row] = list(csv.DictReader(io.StringIO(body)))
    assert row["order_number"] == '\'=HYPERLINK("http://evil")'
    assert row["variant_name"] == "'+1 cheaper" and row["variant_key"] == "'@v"
    assert row["status"] == "'\n=1+2"  # a leading line feed is neutralised like a tab


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "501"},
        {"cursor": "2026-01-01T00:00:00Z~abc"},
        {"cursor": "2026-01-01T00:00:00Z~9223372036854775808"},  # beyond bigint
        {"cursor": "2026-01-01T00:00:00Z~-1"},
        {"format": "xml"},
        {"isControl": "maybe"},
        {"since": "soon"},
        {"variant_key": "v1"},
    ],
)
def test_bad_experiment_queries_are_a_400(api_client, params):
    response = api_client.get(EXPERIMENTS_URL, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json()["error"]["fields"])


def test_offer_events_are_recorded_and_validated(api_client):
    order_id = str(uuid.uuid4())
    created = api_client.post(
        OFFERS_URL,
        {"offerSlug": "priority-delivery", "eventType": "cta_click", "orderId": order_id},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["orderId"] == order_id
    assert CheckoutOfferEvent.objects.get().event_type == "cta_click"

    bad = api_client.post(
        OFFERS_URL, {"offerSlug": "priority-delivery", "eventType": "hover"}, format="json"
    )
    assert bad.status_code == 400 and "eventType" in bad.json()["error"]["fields"]
    assert CheckoutOfferEvent.objects.count() == 1


def test_the_recorded_event_is_returned_even_when_newer_ones_fill_the_recent_list(api_client):
    """20 events already newer than this one (written meanwhile, or backfilled ahead)."""
    order_id = uuid.uuid4()
    later = datetime.now(UTC) + timedelta(hours=1)
    for index in range(21):
        onboarding_event_record(
            order_id=order_id, event_type="note", recorded_at=later + timedelta(seconds=index)
        )

    response = api_client.post(
        EVENTS_URL, {"orderId": str(order_id), "eventType": "journey_started"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["event"]["eventType"] == "journey_started"
    assert body["event"]["eventId"] not in {e["eventId"] for e in body["journey"]["recentEvents"]}
