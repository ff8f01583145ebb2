"""export_onboarding_pricing_segments_via_api walks the site's own reporting endpoint."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from telemetry import services as telemetry_services
from tests.exports.conftest import read_ndjson

ENDPOINT = "/api/v1/reporting/onboarding/experiment-events"


def record_segments(count: int, *, at: datetime) -> None:
    """``count`` experiments, two per event, so segment rows share timestamps."""
    for index in range(0, count, 2):
        telemetry_services.onboarding_event_record(
            order_id=f"8e0f3c0e-0000-4000-8000-{index:012d}",
            event_type="journey_started",
            metadata={
                "pricing_experiment_segment": [
                    {"slug": f"exp-{index}", "variantKey": "control", "isControl": True},
                    {"slug": f"exp-{index + 1}", "variantKey": "b"},
                ]
            },
            recorded_at=at + timedelta(seconds=index // 4),
        )


def export(live_server, tmp_path, *extra: str) -> None:
    call_command(
        "export_onboarding_pricing_segments_via_api",
        "--api-url",
        live_server.url + ENDPOINT,
        "--sink",
        "file",
        "--file-path",
        str(tmp_path / "via-api.ndjson"),
        "--cursor-store",
        "file",
        *extra,
        stderr=io.StringIO(),
    )


@pytest.mark.django_db(transaction=True)
def test_via_api_matches_the_database_exporter_and_resumes_without_repeats(live_server, tmp_path):
    start = datetime(2026, 1, 22, 4, 0, tzinfo=UTC)
    record_segments(10, at=start)

    export(live_server, tmp_path, "--batch-size", "3")
    record_segments_later = start + timedelta(hours=1)
    telemetry_services.onboarding_event_record(
        order_id="8e0f3c0e-0000-4000-8000-999999999999",
        event_type="journey_started",
        metadata={"pricing_experiment_segment": {"slug": "late", "variantKey": "x"}},
        recorded_at=record_segments_later,
    )
    export(live_server, tmp_path, "--batch-size", "3")
    export(live_server, tmp_path, "--batch-size", "3")  # nothing new: nothing sent

    via_api = read_ndjson(tmp_path / "via-api.ndjson")
    direct = io.StringIO()
    call_command("export_onboarding_pricing_segments", stdout=direct, stderr=io.StringIO())
    assert via_api == [json.loads(line) for line in direct.getvalue().splitlines()]
    assert len(via_api) == 11


@pytest.mark.django_db(transaction=True)
def test_via_api_without_a_key_fails_without_retrying(live_server, tmp_path, settings):
    settings.CHECKOUT_API_KEY = ""  # the client sends no key (and the site accepts none)
    with pytest.raises(CommandError, match=r"401 .*\(not retried\)"):
        export(live_server, tmp_path)


@pytest.mark.django_db(transaction=True)
def test_a_segment_committing_late_is_exported_by_the_next_via_api_run(live_server, tmp_path):
    """The API pages stay below the commit watermark, so the cursor the exporter keeps can
    never pass a row whose transaction is still open (the fixed lag on this host's clock
    could, for a transaction longer than the lag)."""
    from telemetry.models import OnboardingJourneyEvent, PricingExperimentSegment
    from tests.exports.test_consistency import other_connection

    record_segments(4, at=datetime(2026, 1, 22, 4, 0, tzinfo=UTC))
    event = OnboardingJourneyEvent.objects.order_by("id").first()
    writer = other_connection()
    try:
        writer.execute(
            "INSERT INTO telemetry_pricingexperimentsegment (event_id, position, journey_id,"
            " order_id, slug, variant_key, is_control, recorded_at)"
            " VALUES (%s, 99, %s, %s, 'late', 'x', false, clock_timestamp())",
            [event.id, event.journey.id, event.journey.order_id],
        )
        # A newer segment, committed while the writer is still open: it waits too.
        telemetry_services.onboarding_event_record(
            order_id="8e0f3c0e-0000-4000-8000-999999999999",
            event_type="journey_started",
            metadata={"pricing_experiment_segment": {"slug": "newer", "variantKey": "y"}},
        )
        export(live_server, tmp_path)
        assert [r["slug"] for r in read_ndjson(tmp_path / "via-api.ndjson")] == [
            "exp-0",
            "exp-1",
            "exp-2",
            "exp-3",
        ]
        writer.commit()
    finally:
        writer.close()
    export(live_server, tmp_path)

    slugs = [r["slug"] for r in read_ndjson(tmp_path / "via-api.ndjson")]
    assert slugs[4:] == ["late", "newer"]
    assert PricingExperimentSegment.objects.count() == len(slugs) == 6


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("form", ["base", "base/", "endpoint/", "setting"])
def test_the_site_base_url_works_as_well_as_the_endpoint(live_server, tmp_path, settings, form):
    # REPORTING_API_URL usually holds the site's address, e.g. https://reports.example.com/.
    record_segments(4, at=datetime(2026, 1, 22, 4, 0, tzinfo=UTC))
    url = {
        "base": live_server.url,
        "base/": live_server.url + "/",
        "endpoint/": live_server.url + ENDPOINT + "/",
        "setting": "",
    }[form]
    settings.REPORTING_API_URL = live_server.url + "/"
    call_command(
        "export_onboarding_pricing_segments_via_api",
        *(["--api-url", url] if url else []),
        "--sink",
        "file",
        "--file-path",
        str(tmp_path / "via-api.ndjson"),
        stderr=io.StringIO(),
    )
    assert [row["slug"] for row in read_ndjson(tmp_path / "via-api.ndjson")] == [
        "exp-0",
        "exp-1",
        "exp-2",
        "exp-3",
    ]


@pytest.mark.parametrize(
    ("given", "walked"),
    [
        ("https://reports.example.com", "https://reports.example.com" + ENDPOINT),
        ("https://reports.example.com/", "https://reports.example.com" + ENDPOINT),
        ("https://example.com/reports/", "https://example.com/reports" + ENDPOINT),
        ("https://reports.example.com" + ENDPOINT, "https://reports.example.com" + ENDPOINT),
        (
            "https://reports.example.com" + ENDPOINT + "?slug=spring",
            "https://reports.example.com" + ENDPOINT + "?slug=spring",
        ),
    ],
)
def test_the_endpoint_is_found_from_a_base_url_a_prefix_or_itself(given, walked):
    from exports.feeds import experiment_events_url

    assert experiment_events_url(given) == walked
