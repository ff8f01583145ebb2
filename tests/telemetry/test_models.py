"""The database itself refuses values the runbooks fix, whatever code writes them."""

import uuid

import pytest
from django.db import IntegrityError

from exports.models import ExportRun
from reports.models import GuardrailFollowUp
from telemetry.models import (
    CheckoutOfferEvent,
    GdprAuditLog,
    OnboardingJourney,
    OnboardingJourneyTask,
    QuickOrderEvent,
)

pytestmark = pytest.mark.django_db


def test_follow_up_action_outside_pause_resume_escalate_is_refused_by_the_database():
    with pytest.raises(IntegrityError, match="guardrail_followup_action_valid"):
        GuardrailFollowUp.objects.create(provider_id="prov-1", provider_name="P", action="delete")


@pytest.mark.parametrize("action", ["pause", "resume", "escalate"])
def test_follow_up_accepts_each_runbook_action(action):
    GuardrailFollowUp.objects.create(provider_id="prov-1", provider_name="P", action=action)
    assert GuardrailFollowUp.objects.filter(action=action).count() == 1


def test_quick_order_event_name_outside_the_funnel_is_refused_by_the_database():
    with pytest.raises(IntegrityError, match="quick_order_event_name_valid"):
        QuickOrderEvent.objects.create(
            event_name="quick_order.refund", product_id="p", product_title="P"
        )


def test_offer_event_type_is_constrained():
    with pytest.raises(IntegrityError, match="checkout_offer_event_type_valid"):
        CheckoutOfferEvent.objects.create(offer_slug="bundle", event_type="hover")


def test_gdpr_action_is_constrained():
    with pytest.raises(IntegrityError, match="gdpr_audit_action_valid"):
        GdprAuditLog.objects.create(action="sell", subject_reference="cust_1", actor="ops")


def test_a_completed_task_must_say_when():
    journey = OnboardingJourney.objects.create(order_id=uuid.uuid4())
    with pytest.raises(IntegrityError, match="onboarding_task_completed_at_matches"):
        OnboardingJourneyTask.objects.create(
            journey=journey, key="kickoff_call", title="Kickoff", completed=True
        )


def test_one_journey_per_order():
    order_id = uuid.uuid4()
    OnboardingJourney.objects.create(order_id=order_id)
    with pytest.raises(IntegrityError):
        OnboardingJourney.objects.create(order_id=order_id)


def test_export_run_feed_is_constrained():
    with pytest.raises(IntegrityError, match="export_run_feed_valid"):
        ExportRun.objects.create(feed="everything")
