"""GET/POST /api/v1/reporting/guardrails/followups."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from reports.models import GuardrailFollowUp

pytestmark = pytest.mark.django_db

URL = "/api/v1/reporting/guardrails/followups"
T0 = datetime(2026, 1, 22, 4, 0, tzinfo=UTC)


def _make(
    n: int, *, ties_every: int = 3, provider=lambda i: f"prov-{i % 4}"
) -> list[GuardrailFollowUp]:
    """n follow-ups where groups of ``ties_every`` share one timestamp."""
    rows = [
        GuardrailFollowUp(
            id=uuid.uuid4(),
            provider_id=provider(i),
            provider_name=f"Provider {provider(i)}",
            action=["pause", "resume", "escalate"][i % 3],
            created_at=T0 + timedelta(seconds=i // ties_every),
        )
        for i in range(n)
    ]
    return GuardrailFollowUp.objects.bulk_create(rows, batch_size=1000)


def _walk(client, **params) -> tuple[list[str], int]:
    seen, pages, cursor = [], 0, None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = client.get(URL, query)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["followUpId"] for row in body["followUps"]]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            return seen, pages


def test_walking_every_page_of_2000_rows_with_shared_timestamps_returns_each_row_once(api_client):
    rows = _make(2000, ties_every=3)  # two rows in three share a timestamp with another
    seen, pages = _walk(api_client, limit=37)
    assert len(seen) == len(set(seen)) == 2000
    assert set(seen) == {str(r.id) for r in rows}
    assert pages == -(-2000 // 37)


def test_pages_come_oldest_first_in_created_at_then_id_order(api_client):
    _make(30, ties_every=5)
    body = api_client.get(URL, {"limit": 30}).json()
    keys = [(row["createdAt"], row["followUpId"]) for row in body["followUps"]]
    assert keys == sorted(keys)
    assert body["nextCursor"] is None


def test_newest_first_with_order_desc_walks_everything_too(api_client):
    rows = _make(100, ties_every=4)
    seen, _ = _walk(api_client, limit=9, order="desc")
    assert len(seen) == 100 and set(seen) == {str(r.id) for r in rows}
    first = api_client.get(URL, {"limit": 1, "order": "desc"}).json()["followUps"][0]
    assert first["createdAt"] == max(r.created_at for r in rows).isoformat(
        timespec="microseconds"
    ).replace("+00:00", "Z")


def test_the_last_cursor_resumes_with_only_new_rows(api_client):
    _make(10)
    body = api_client.get(URL, {"limit": 10}).json()
    assert body["nextCursor"] is None
    last = body["followUps"][-1]
    resume_from = f"{last['createdAt']}~{last['followUpId']}"
    newer = GuardrailFollowUp.objects.create(
        provider_id="prov-new",
        provider_name="New",
        action="pause",
        created_at=T0 + timedelta(days=1),
    )
    again = api_client.get(URL, {"cursor": resume_from}).json()
    assert [row["followUpId"] for row in again["followUps"]] == [str(newer.id)]


def test_a_bare_timestamp_cursor_returns_rows_strictly_after_it(api_client):
    _make(12, ties_every=3)  # timestamps T0, T0+1s, T0+2s, T0+3s, three rows each
    body = api_client.get(URL, {"cursor": "2026-01-22T04:00:01Z", "limit": 50}).json()
    assert len(body["followUps"]) == 6
    assert all(row["createdAt"] > "2026-01-22T04:00:01.000000Z" for row in body["followUps"])


def test_provider_filter(api_client):
    _make(40)
    rows = api_client.get(URL, {"providerId": "prov-2", "limit": 100}).json()["followUps"]
    assert len(rows) == 10 and {row["providerId"] for row in rows} == {"prov-2"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "yesterday"}, "cursor"),
        ({"cursor": "2026-01-22T04:00:00Z~not-a-uuid"}, "cursor"),
        ({"cursor": "0001-01-01T00:00:00+01:00"}, "cursor"),  # before Python's first instant
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"provider_id": "prov-1"}, "provider_id"),
        ({"order": "sideways"}, "order"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_the_parameter(api_client, params, field):
    response = api_client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("cursor", "rows"),
    [("2026-01-22T05:00:00+20:00", 3), ("2026-01-21T11:30:00-16:30", 0)],
)
def test_a_cursor_offset_postgresql_refuses_is_read_in_utc(api_client, cursor, rows):
    """Python accepts offsets up to 23:59, PostgreSQL only up to 15:59: the cursor is read
    in UTC (09:00 and 04:00 UTC, before and at the rows' 04:00)."""
    _make(3)
    response = api_client.get(URL, {"cursor": cursor})
    assert response.status_code == 200
    assert len(response.json()["followUps"]) == rows


def test_recording_a_follow_up_returns_the_row_and_it_joins_the_timeline(api_client):
    body = {
        "providerId": "prov-instaboost",
        "providerName": "InstaBoost Growth",
        "action": "pause",
        "notes": "Velocity 4x over the guardrail.",
        "platformContext": {
            "id": "instagram",
            "label": "Instagram DM Concierge",
            "handle": "@boost",
            "type": "IG",
        },
        "conversionCursor": "2026-01-21T00:00:00Z",
        "conversionHref": "https://admin.smplat.io/admin/reports/conversions?cursor=2026-01-21",
    }
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    row = response.json()
    assert row["action"] == "pause" and row["platformContext"]["handle"] == "@boost"
    assert uuid.UUID(row["followUpId"])
    timeline = api_client.get(URL).json()["followUps"]
    assert timeline == [row]


def test_a_follow_up_without_conversion_cursor_means_the_live_snapshot(api_client):
    response = api_client.post(
        URL, {"providerId": "p", "providerName": "P", "action": "escalate"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["conversionCursor"] is None
    assert GuardrailFollowUp.objects.get().conversion_label == "Live conversion snapshot"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"providerId": "p", "providerName": "P", "action": "delete"}, "action"),
        ({"providerName": "P", "action": "pause"}, "providerId"),
        ({"providerId": "", "providerName": "P", "action": "pause"}, "providerId"),
        (
            {
                "providerId": "p",
                "providerName": "P",
                "action": "pause",
                "conversionHref": "javascript:alert(1)",
            },
            "conversionHref",
        ),
        (
            {
                "providerId": "p",
                "providerName": "P",
                "action": "pause",
                "platformContext": "instagram",
            },
            "platformContext",
        ),
        ({"providerId": "p", "providerName": "P", "action": "pause", "note": "typo"}, "note"),
        ({"providerId": ["p"], "providerName": "P", "action": "pause"}, "providerId"),
    ],
)
def test_bad_follow_ups_are_refused_and_nothing_is_stored(api_client, body, field):
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not GuardrailFollowUp.objects.exists()


@pytest.mark.parametrize("href", ["javascript:alert(1)", "ftp://files.example/x", "not a link"])
def test_a_conversion_link_must_be_a_web_address_and_is_reported_once(api_client, href):
    body = {"providerId": "p", "providerName": "P", "action": "pause", "conversionHref": href}
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["conversionHref"] == ["Enter a valid URL."]


def test_a_json_array_body_is_refused(api_client):
    response = api_client.post(URL, [1, 2], format="json")
    assert response.status_code == 400
    assert not GuardrailFollowUp.objects.exists()


def test_without_a_key_nothing_is_listed_or_recorded(anonymous_client):
    assert anonymous_client.get(URL).status_code == 401
    response = anonymous_client.post(
        URL, {"providerId": "p", "providerName": "P", "action": "pause"}, format="json"
    )
    assert response.status_code == 401
    assert not GuardrailFollowUp.objects.exists()


def test_charlie_is_refused_and_staff_posts_need_csrf(client, charlie, staff_client):
    client.force_login(charlie)
    assert client.get(URL).status_code == 403
    response = staff_client.post(
        URL, {"providerId": "p", "providerName": "P", "action": "pause"}, format="json"
    )
    assert response.status_code == 403  # no CSRF token
    assert staff_client.get(URL).status_code == 200
