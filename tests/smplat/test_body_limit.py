"""A body over API_MAX_BODY_BYTES is refused before any view or the CSRF check reads it,
the admin's forms included (they are plain Django views, not the API's capped parsers)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from exports.models import ExportRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def file_feed(settings, tmp_path):
    settings.GUARDRAIL_EXPORT_SINK = "file"
    settings.GUARDRAIL_EXPORT_FILE_PATH = str(tmp_path / "out.ndjson")
    settings.GUARDRAIL_EXPORT_TRIGGER_URL = ""


def test_a_10_mb_multipart_post_to_the_admin_run_now_form_is_413_and_queues_nothing(
    client, alice, file_feed
):
    client.force_login(alice)
    big = SimpleUploadedFile("big.bin", b"x" * (10 * 1024 * 1024))
    response = client.post("/admin/reports/cards/guardrail_followups/run/", {"file": big})

    assert response.status_code == 413
    assert ExportRun.objects.count() == 0


def test_the_same_form_with_a_small_body_still_queues_a_run(client, alice, file_feed):
    client.force_login(alice)
    response = client.post("/admin/reports/cards/guardrail_followups/run/")

    assert response.status_code in (200, 302)
    assert ExportRun.objects.filter(feed="guardrail_followups").count() == 1


def test_an_api_route_answers_the_json_error_shape(api_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = api_client.post(
        "/api/telemetry/quick-order",
        data=b"{" + b" " * 2000 + b"}",
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
