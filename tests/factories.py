"""factory_boy factories for the models tests build by hand."""

import uuid
from datetime import UTC, datetime

import factory

from reports.models import GuardrailFollowUp


class GuardrailFollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuardrailFollowUp

    provider_id = factory.Sequence(lambda n: f"prov-{n % 3}")
    provider_name = factory.LazyAttribute(lambda o: f"Provider {o.provider_id}")
    action = factory.Iterator(["pause", "resume", "escalate"])
    notes = "Velocity over the guardrail."
    platform_context_id = "instagram"
    platform_context_label = "Instagram DM Concierge"
    created_at = factory.LazyFunction(lambda: datetime(2026, 1, 22, 4, 0, tzinfo=UTC))
    id = factory.LazyFunction(uuid.uuid4)
