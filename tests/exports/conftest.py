"""Fixtures of the export tests: real servers on loopback (moto's S3 server, pytest-httpserver
for webhooks and Slack), real PostgreSQL, fast retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from reports.models import GuardrailFollowUp
from tests.factories import GuardrailFollowUpFactory


@pytest.fixture(autouse=True)
def export_settings(settings, tmp_path, monkeypatch):
    """Fast retries, no safety lag unless a test asks for it, nothing configured by default,
    and the working directory in a temporary folder (default cursor files land there)."""
    settings.EXPORT_RETRY_BACKOFF_SECONDS = 0.01
    settings.EXPORT_RETRY_MAX_DELAY_SECONDS = 5
    settings.EXPORT_RETRY_ATTEMPTS = 4
    settings.EXPORT_HTTP_TIMEOUT_SECONDS = 5
    settings.EXPORT_SAFETY_LAG_SECONDS = 0
    settings.EXPORT_WEBHOOK_SECRET = ""
    for name in dir(django_settings):  # the fixture's wrapper lists no setting
        if name.endswith(("_SLACK_WEBHOOK", "_STATUS_S3_URI", "_STATUS_URL", "_WORKFLOW_URL")):
            setattr(settings, name, "")
    settings.ANALYTICS_GUARDRAIL_WEBHOOK = ""
    settings.ANALYTICS_SEGMENTS_WEBHOOK = ""
    settings.GITHUB_RUN_ID = ""
    monkeypatch.chdir(tmp_path)


BASE_TIME = datetime(2026, 1, 22, 4, 0, tzinfo=UTC)


def make_follow_ups(count: int, *, per_timestamp: int = 1, start: datetime = BASE_TIME):
    """``count`` follow-ups, ``per_timestamp`` of them sharing each timestamp."""
    rows = [
        GuardrailFollowUpFactory.build(
            created_at=start + timedelta(seconds=index // per_timestamp),
            provider_id=f"prov-{index % 3}",
        )
        for index in range(count)
    ]
    GuardrailFollowUp.objects.bulk_create(rows)
    return rows


def read_ndjson(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def expected_order(rows) -> list[str]:
    return [str(row.id) for row in sorted(rows, key=lambda r: (r.created_at, r.id))]
