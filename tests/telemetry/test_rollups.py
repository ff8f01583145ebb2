"""The chat telemetry rollup refresh: correct numbers, idempotent, incremental, late rows."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from telemetry.models import (
    ChatConversation,
    ChatMessage,
    ChatTelemetryDomainRollup,
    ChatTelemetryModelRollup,
    ChatTelemetryRollup,
)
from telemetry.rollups import rollups_refresh

pytestmark = pytest.mark.django_db

HOUR = datetime(2026, 11, 20, 10, tzinfo=UTC)
LONG_AGO = datetime(2026, 11, 1, tzinfo=UTC)


def _conversation(domain: str = "shop.smplat.io") -> ChatConversation:
    return ChatConversation.objects.create(domain=domain, started_at=HOUR)


def _exchange(
    conversation: ChatConversation,
    created_at: datetime,
    *,
    model: str = "gpt-4o-mini",
    latency_ms: int = 600,
    succeeded: bool = True,
    ingested_at: datetime = LONG_AGO,
) -> None:
    """A user message and the assistant's answer, ingested long ago unless told otherwise."""
    common = {
        "conversation": conversation,
        "domain": conversation.domain,
        "ingested_at": ingested_at,
    }
    ChatMessage.objects.create(role="user", created_at=created_at, **common)
    ChatMessage.objects.create(
        role="assistant",
        model=model,
        latency_ms=latency_ms,
        input_tokens=1000,
        output_tokens=100,
        succeeded=succeeded,
        created_at=created_at + timedelta(seconds=1),
        **common,
    )


def _snapshot() -> dict[str, list[tuple]]:
    """Every rollup row without its id and refresh time: what a refresh must reproduce."""
    return {
        "overall": list(
            ChatTelemetryRollup.objects.order_by("bucket_start").values_list(
                "bucket_start",
                "conversations",
                "messages",
                "assistant_messages",
                "failed_messages",
                "avg_latency_ms",
                "input_tokens",
                "output_tokens",
            )
        ),
        "domain": list(
            ChatTelemetryDomainRollup.objects.order_by("bucket_start", "domain").values_list(
                "bucket_start",
                "domain",
                "conversations",
                "messages",
                "failed_messages",
                "avg_latency_ms",
            )
        ),
        "model": list(
            ChatTelemetryModelRollup.objects.order_by("bucket_start", "model").values_list(
                "bucket_start",
                "model",
                "messages",
                "failed_messages",
                "avg_latency_ms",
                "input_tokens",
                "output_tokens",
            )
        ),
    }


@pytest.fixture
def two_hours_of_chat():
    shop, creators = _conversation(), _conversation("creators.smplat.io")
    _exchange(shop, HOUR + timedelta(minutes=5), latency_ms=400)
    _exchange(shop, HOUR + timedelta(minutes=20), model="claude-3-5-haiku", latency_ms=800)
    _exchange(creators, HOUR + timedelta(minutes=40), latency_ms=900, succeeded=False)
    _exchange(creators, HOUR + timedelta(hours=1, minutes=3), latency_ms=500)


def test_rollups_count_messages_latency_and_tokens_per_bucket_domain_and_model(two_hours_of_chat):
    rollups_refresh()

    first = ChatTelemetryRollup.objects.get(bucket_start=HOUR)
    assert (first.conversations, first.messages, first.assistant_messages) == (2, 6, 3)
    assert first.failed_messages == 1
    assert first.avg_latency_ms == pytest.approx(700)
    assert (first.input_tokens, first.output_tokens) == (3000, 300)
    assert ChatTelemetryRollup.objects.get(bucket_start=HOUR + timedelta(hours=1)).messages == 2

    domains = dict(
        ChatTelemetryDomainRollup.objects.filter(bucket_start=HOUR).values_list(
            "domain", "messages"
        )
    )
    assert domains == {"shop.smplat.io": 4, "creators.smplat.io": 2}
    models = {
        row.model: row
        for row in ChatTelemetryModelRollup.objects.filter(bucket_start=HOUR).order_by("model")
    }
    assert models["gpt-4o-mini"].messages == 2
    assert models["gpt-4o-mini"].avg_latency_ms == pytest.approx(650)
    assert models["gpt-4o-mini"].failed_messages == 1
    assert models["claude-3-5-haiku"].output_tokens == 100


def test_refreshing_twice_gives_identical_rollups(two_hours_of_chat):
    rollups_refresh()
    once = _snapshot()

    rollups_refresh()
    assert _snapshot() == once
    rollups_refresh(full=True)
    assert _snapshot() == once
    assert len(once["overall"]) == 2


def test_incremental_refresh_picks_up_a_late_row_and_recomputes_only_its_bucket(
    two_hours_of_chat,
):
    rollups_refresh()
    assert not ChatTelemetryRollup.objects.filter(bucket_start=HOUR - timedelta(days=2)).exists()

    # Sent two days late: an old created_at, arriving now. Its bucket is long past the last
    # refresh, so only ingested_at can tell the refresh about it.
    late = _conversation("instaboost.smplat.io")
    _exchange(
        late,
        HOUR - timedelta(days=2, minutes=-15),
        model="llama-3.1-70b",
        ingested_at=datetime.now(UTC),
    )
    _exchange(late, HOUR + timedelta(minutes=50), ingested_at=datetime.now(UTC))

    result = rollups_refresh()

    assert result.since is not None
    assert result.buckets_recomputed == 2
    old_bucket = ChatTelemetryRollup.objects.get(bucket_start=HOUR - timedelta(days=2))
    assert old_bucket.messages == 2
    assert ChatTelemetryRollup.objects.get(bucket_start=HOUR).messages == 8
    assert ChatTelemetryModelRollup.objects.filter(
        bucket_start=HOUR - timedelta(days=2), model="llama-3.1-70b"
    ).exists()
    # The incremental result equals a refresh from scratch.
    incremental = _snapshot()
    rollups_refresh(full=True)
    assert _snapshot() == incremental


def test_refresh_drops_a_domain_that_left_a_recomputed_bucket(two_hours_of_chat):
    rollups_refresh()
    ChatMessage.objects.filter(
        domain="creators.smplat.io", created_at__lt=HOUR + timedelta(hours=1)
    ).update(domain="shop.smplat.io", ingested_at=datetime.now(UTC))

    rollups_refresh()

    domains = ChatTelemetryDomainRollup.objects.filter(bucket_start=HOUR)
    assert list(domains.values_list("domain", "messages")) == [("shop.smplat.io", 6)]


def test_full_refresh_drops_buckets_without_messages(two_hours_of_chat):
    rollups_refresh()
    ChatMessage.objects.filter(created_at__gte=HOUR + timedelta(hours=1)).delete()

    rollups_refresh()
    assert ChatTelemetryRollup.objects.count() == 2, "an incremental refresh cannot see deletes"

    result = rollups_refresh(full=True)
    assert result.rows_deleted["chat_telemetry_rollups"] == 1
    assert list(ChatTelemetryRollup.objects.values_list("bucket_start", flat=True)) == [HOUR]
    assert not ChatTelemetryModelRollup.objects.filter(bucket_start__gt=HOUR).exists()


def test_refresh_of_an_empty_table_writes_nothing():
    result = rollups_refresh()
    assert result.buckets_recomputed == 0
    assert set(result.buckets_written.values()) == {0}


def test_command_refreshes_incrementally_and_fully(two_hours_of_chat, capsys):
    call_command("refresh_telemetry_rollups", verbosity=2)
    out = capsys.readouterr().out
    assert "chat_telemetry_domain_rollups: 3 rows written" in out
    assert "Rollups refreshed (incremental): 2 hour buckets recomputed." in out

    call_command("refresh_telemetry_rollups", "--full")
    assert "Rollups refreshed (full): 2 hour buckets recomputed." in capsys.readouterr().out
    assert ChatTelemetryRollup.objects.count() == 2
