"""Writes of telemetry: capture into the rolling windows, onboarding and offer events."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from smplat.watermark import database_now
from telemetry.checklist import CHECKLIST_KEYS, ONBOARDING_CHECKLIST
from telemetry.models import (
    WINDOW_TRIM_EVERY,
    WINDOW_TRIM_SLACK,
    CheckoutOfferEvent,
    GuardrailWorkflowEvent,
    OnboardingJourney,
    OnboardingJourneyEvent,
    OnboardingJourneyTask,
    PricingExperimentSegment,
    QuickOrderEvent,
)


def window_trim(*, model: type[QuickOrderEvent] | type[GuardrailWorkflowEvent]) -> int:
    """Delete what has fallen well out of a rolling window.

    Keeps the newest ``model.WINDOW + WINDOW_TRIM_SLACK`` rows; reads are bounded by
    ``model.WINDOW`` (``objects.window()``), so what a client sees is exactly the window.

    Safe under concurrent writers without a lock: a transaction only deletes rows older than
    the ``size`` newest rows it can see, and rows it cannot see yet (other writers' uncommitted
    inserts) are newer than those, so no row that belongs to the final window is ever deleted.
    Between two writers' commits the table may briefly hold a few rows more than ``size``;
    every read of the window is bounded by ``size``, so nobody sees them.
    """
    size = model.WINDOW + WINDOW_TRIM_SLACK
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE id < "  # noqa: S608 - table name from the model, not input
            f"(SELECT id FROM {table} ORDER BY id DESC OFFSET %s LIMIT 1)",
            [size - 1],
        )
        return cursor.rowcount


def _window_append(event: QuickOrderEvent | GuardrailWorkflowEvent) -> None:
    """Insert a validated window event; every ``WINDOW_TRIM_EVERY``-th arrival trims.

    The insert alone is one autocommit statement. The trim runs right after it, in its own
    statement: it only deletes rows well behind the newest ones it can see, so it needs no
    transaction shared with the insert. Choosing by id spreads the trims evenly over
    concurrent writers: about one trim per ``WINDOW_TRIM_EVERY`` arrivals, however many.
    """
    event.save(force_insert=True)
    if event.id % WINDOW_TRIM_EVERY == 0:
        window_trim(model=type(event))


def quick_order_event_record(
    *,
    event_name: str,
    product_id: str,
    product_title: str,
    session_id: str | None = None,
    platform_context: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> QuickOrderEvent:
    """Append one quick-order funnel event and keep the window at its newest 5 000 rows."""
    event = QuickOrderEvent(
        event_name=event_name,
        product_id=product_id,
        product_title=product_title,
        session_id=session_id,
        platform_context=platform_context,
        metadata=dict(metadata or {}),
        recorded_at=recorded_at or timezone.now(),
    )
    # No uniqueness or constraint queries: event_id is a fresh UUID and the field checks
    # (choices included) already cover the check constraint; the database enforces both.
    event.full_clean(validate_unique=False, validate_constraints=False)
    _window_append(event)
    return event


def guardrail_workflow_event_record(
    *,
    workflow_action: str,
    provider_id: str | None = None,
    provider_name: str | None = None,
    source: str = GuardrailWorkflowEvent.Source.ADMIN,
    guardrail_platform_slug: str | None = None,
    guardrail_status: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> GuardrailWorkflowEvent:
    """Append one ``guardrail.workflow`` event and keep the window at its newest 2 000 rows."""
    event = GuardrailWorkflowEvent(
        workflow_action=workflow_action,
        provider_id=provider_id,
        provider_name=provider_name,
        source=source,
        guardrail_platform_slug=guardrail_platform_slug,
        guardrail_status=guardrail_status,
        metadata=dict(metadata or {}),
        recorded_at=recorded_at or timezone.now(),
    )
    event.full_clean(validate_unique=False, validate_constraints=False)
    _window_append(event)
    return event


@transaction.atomic
def offer_event_record(
    *,
    offer_slug: str,
    event_type: str,
    order_id: uuid.UUID | None = None,
    session_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> CheckoutOfferEvent:
    event = CheckoutOfferEvent(
        offer_slug=offer_slug,
        event_type=event_type,
        order_id=order_id,
        session_id=session_id,
        metadata=dict(metadata or {}),
        # The database's time in this transaction: the exporters' watermark relies on it.
        recorded_at=recorded_at or database_now(),
    )
    event.full_clean()
    event.save(force_insert=True)
    return event


# --- Onboarding -----------------------------------------------------------------------------

_SEGMENT_FIELDS = {
    # data-lake column: (camelCase key as the storefront sends it, snake_case alias)
    "slug": ("slug", "slug"),
    "variant_key": ("variantKey", "variant_key"),
    "variant_name": ("variantName", "variant_name"),
    "is_control": ("isControl", "is_control"),
    "status": ("status", "status"),
    "feature_flag_key": ("featureFlagKey", "feature_flag_key"),
    "assignment_strategy": ("assignmentStrategy", "assignment_strategy"),
}


# Experiment assignments are short identifiers and labels. The caps keep a row within what
# PostgreSQL indexes (a btree entry holds at most about 2.7 kB: slug and variant are
# indexed) and an event's segments within the smallint ``position``.
SEGMENTS_PER_EVENT_MAX = 100
SEGMENT_TEXT_MAX = 200


def pricing_segments_parse(raw: Any) -> list[dict[str, Any]]:
    """Validate ``metadata.pricing_experiment_segment`` (an object or a list of them).

    Returns one dict per experiment with the data-lake column names; raises ValidationError
    naming the offending entry, so a bad assignment is refused rather than half-recorded.
    """
    if raw is None:
        return []
    entries = raw if isinstance(raw, list) else [raw]
    if len(entries) > SEGMENTS_PER_EVENT_MAX:
        raise ValidationError(
            {
                "metadata.pricing_experiment_segment": (
                    f"at most {SEGMENTS_PER_EVENT_MAX} experiments per event"
                )
            }
        )
    parsed = []
    for index, entry in enumerate(entries):
        where = (
            f"metadata.pricing_experiment_segment[{index}]"
            if isinstance(raw, list)
            else ("metadata.pricing_experiment_segment")
        )
        if not isinstance(entry, Mapping):
            raise ValidationError({where: "must be an object"})
        row: dict[str, Any] = {}
        for column, (camel, snake) in _SEGMENT_FIELDS.items():
            value = entry.get(camel, entry.get(snake))
            if column == "is_control":
                if value is None:
                    value = False
                if not isinstance(value, bool):
                    raise ValidationError({f"{where}.{camel}": "must be true or false"})
            elif value is not None and not isinstance(value, str):
                raise ValidationError({f"{where}.{camel}": "must be a string"})
            elif value is not None and len(value) > SEGMENT_TEXT_MAX:
                raise ValidationError(
                    {f"{where}.{camel}": f"at most {SEGMENT_TEXT_MAX} characters"}
                )
            row[column] = value
        for required in ("slug", "variant_key"):
            if not row[required]:
                raise ValidationError({f"{where}.{_SEGMENT_FIELDS[required][0]}": "is required"})
        parsed.append(row)
    return parsed


def onboarding_journey_get_or_create(
    *, order_id: uuid.UUID, order_number: str | None = None, started_at: datetime | None = None
) -> OnboardingJourney:
    """The order's journey, created with the standard checklist on its first event
    (``started_at``, the first event's time: a backfilled journey starts when it started)."""
    started_at = started_at or timezone.now()
    journey, created = OnboardingJourney.objects.get_or_create(
        order_id=order_id,
        defaults={"order_number": order_number, "created_at": started_at, "updated_at": started_at},
    )
    if created:
        OnboardingJourneyTask.objects.bulk_create(
            OnboardingJourneyTask(journey=journey, key=key, title=title, position=position)
            for position, (key, title) in enumerate(ONBOARDING_CHECKLIST)
        )
    elif order_number and not journey.order_number:
        journey.order_number = order_number
        journey.save(update_fields=["order_number"])
    return journey


@transaction.atomic
def onboarding_event_record(
    *,
    order_id: uuid.UUID,
    event_type: str,
    order_number: str | None = None,
    task_key: str | None = None,
    completed: bool | None = None,
    metadata: Mapping[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> OnboardingJourneyEvent:
    """Record an onboarding event: create the journey, toggle its task, append the event.

    All in one transaction, so a refused event leaves neither a journey nor a toggled task.
    """
    metadata = dict(metadata or {})
    if not event_type:
        raise ValidationError({"eventType": "is required"})
    if completed is not None and not task_key:
        raise ValidationError({"taskKey": "is required when completed is given"})
    if task_key is not None and task_key not in CHECKLIST_KEYS:
        raise ValidationError(
            {
                "taskKey": f"unknown task {task_key!r}; known tasks: {', '.join(sorted(CHECKLIST_KEYS))}"
            }
        )
    segments = pricing_segments_parse(metadata.get("pricing_experiment_segment"))
    # The database's time in this transaction orders the exported segments: the exporters'
    # commit watermark relies on it (smplat/watermark.py).
    now = recorded_at or database_now()

    # Serialise events of one order so two first events cannot both create its journey.
    journey = onboarding_journey_get_or_create(
        order_id=order_id, order_number=order_number, started_at=now
    )
    journey = OnboardingJourney.objects.select_for_update().get(pk=journey.pk)

    if task_key is not None and completed is not None:
        OnboardingJourneyTask.objects.filter(journey=journey, key=task_key).update(
            completed=completed, completed_at=now if completed else None
        )
        open_tasks = journey.tasks.filter(completed=False).exists()
        journey.status = (
            OnboardingJourney.Status.ACTIVE if open_tasks else OnboardingJourney.Status.COMPLETED
        )
    journey.updated_at = max(journey.updated_at, now)
    journey.save(update_fields=["status", "updated_at"])

    event = OnboardingJourneyEvent.objects.create(
        journey=journey,
        event_type=event_type,
        task_key=task_key,
        metadata=metadata,
        recorded_at=now,
    )
    PricingExperimentSegment.objects.bulk_create(
        PricingExperimentSegment(
            event=event,
            position=position,
            journey_id=journey.id,
            order_id=journey.order_id,
            order_number=journey.order_number,
            recorded_at=now,
            **segment,
        )
        for position, segment in enumerate(segments)
    )
    return event
