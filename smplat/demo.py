"""What the demo data of every app shares (``manage.py seed_dashboard``, ``smplat/seed.py``):
deterministic ids, the providers the tables talk about, insert-if-new. Each app seeds its own
tables in its ``demo.py`` (``reports/demo.py``, ``telemetry/demo.py``, ``exports/demo.py``).

Idempotent: every row has a deterministic id (uuid5 of a stable name), inserts skip rows that
exist, and the rolling windows and run history are only filled while they are empty or short.
Timestamps are relative to the time of the run, so a fresh seed looks fresh; chat telemetry and
the GDPR log are generated per hour bucket, so a nightly re-run adds the new hours (and only
those) and keeps the monitors green.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

NAMESPACE = uuid.UUID("6f1c1d64-5c2e-4e0c-9a53-0d6c2f1d9b11")

# The providers every demo table talks about (follow-ups, workflow events, automation runs).
PROVIDERS = [
    ("prov-instaboost", "InstaBoost Growth", "instagram", "Instagram DM Concierge", "IG"),
    ("prov-tiklift", "TikLift Media", "tiktok", "TikTok Creator Boost", "TikTok"),
    ("prov-ytpulse", "YT Pulse Network", "youtube", "YouTube Premiere Push", "YouTube"),
    ("prov-socialforge", "SocialForge", "shopify", "Shopify Storefront Reviews", "Shopify"),
    ("prov-reachhub", "ReachHub Agency", "whatsapp", "WhatsApp Broadcasts", "WhatsApp"),
    ("prov-fbreach", "FB Reach Partners", "facebook", "Facebook Page Growth", "FB"),
]


def demo_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts))


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, count: int) -> None:
        self.created[name] = self.created.get(name, 0) + count


def insert_new(model, objs: list, report: SeedReport, name: str, key: str = "id") -> None:
    """Insert the objects whose ``key`` is not in the table yet and count them."""
    wanted = {getattr(o, key): o for o in objs}
    existing = set(model.objects.filter(**{f"{key}__in": list(wanted)}).values_list(key, flat=True))
    new = [o for k, o in wanted.items() if k not in existing]
    model.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    report.add(name, len(new))


Rng = Callable[[str], random.Random]
