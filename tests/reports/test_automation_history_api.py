"""The provider automation history API and its guardrail workflow summary."""

from datetime import UTC, datetime, timedelta

import pytest

from reports.models import ProviderAutomationRun
from telemetry.services import guardrail_workflow_event_record

pytestmark = pytest.mark.django_db

URL = "/api/v1/fulfillment/providers/automation/status/history"


def test_history_lists_runs_with_the_guardrail_workflow_summary(api_client):
    t0 = datetime(2026, 1, 22, tzinfo=UTC)
    for hour in range(5):
        ProviderAutomationRun.objects.create(
            kind="alert", ran_at=t0 + timedelta(hours=hour), summary={"alertsSent": hour}
        )
    ProviderAutomationRun.objects.create(
        kind="replay", ran_at=t0, summary={"scheduled": 3, "processed": 3}
    )
    guardrail_workflow_event_record(
        workflow_action="attachment.upload",
        provider_id="p1",
        provider_name="P1",
        metadata={"sizeBytes": 1000},
    )
    guardrail_workflow_event_record(
        workflow_action="attachment.upload",
        provider_id="p1",
        provider_name="P1",
        metadata={"sizeBytes": "not a number"},
    )
    guardrail_workflow_event_record(
        workflow_action="note.update", provider_id="p2", provider_name="P2"
    )

    body = api_client.get(URL, {"kind": "alert", "limit": 3}).json()
    assert [run["summary"]["alertsSent"] for run in body["runs"]] == [0, 1, 2]
    assert body["nextCursor"]
    rest = api_client.get(URL, {"kind": "alert", "cursor": body["nextCursor"]}).json()
    assert [run["summary"]["alertsSent"] for run in rest["runs"]] == [3, 4]

    summary = body["guardrailWorkflow"]
    assert summary["events"] == 3
    assert summary["actionCounts"] == {"attachment.upload": 2, "note.update": 1}
    assert summary["attachmentTotals"] == {"uploads": 2, "bytes": 1000}
    assert summary["providerActivity"][0]["providerId"] == "p1"


def test_history_with_no_runs_and_no_events(api_client):
    body = api_client.get(URL).json()
    assert body["runs"] == [] and body["nextCursor"] is None
    assert (
        body["guardrailWorkflow"]["events"] == 0
        and body["guardrailWorkflow"]["lastEventAt"] is None
    )
