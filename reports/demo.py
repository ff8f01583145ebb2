"""Demo follow-ups and provider automation runs (part of ``smplat.demo.seed_dashboard``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from reports.models import GuardrailFollowUp, ProviderAutomationRun
from smplat.demo import PROVIDERS, Rng, SeedReport, demo_id, insert_new

FOLLOW_UP_NOTES = {
    "pause": [
        "Delivery velocity hit 4x the guardrail in 20 minutes; paused until the provider confirms drip settings.",
        "Refill rate above 12% on the last 50 orders. Paused while we audit the account quality.",
        "Customer complaints about bot-looking profiles; pausing new orders for this provider.",
        "API returned stale order statuses for two hours. Pausing to stop double submissions.",
    ],
    "resume": [
        "Provider switched to 24h drip delivery; velocity back under the guardrail. Resuming.",
        "Quality audit passed on 30 sampled profiles. Resuming with normal limits.",
        "Status sync fixed on their side (ticket #4821). Resumed after a clean hour.",
    ],
    "escalate": [
        "Third breach this week. Escalating to the partner manager for a contract review.",
        "Provider not answering on the shared Slack channel for 6h; escalated to on-call lead.",
        "Chargeback risk on 14 orders; escalated to finance and trust & safety.",
    ],
}


def seed_follow_ups(now: datetime, report: SeedReport, rng: random.Random) -> None:
    rows = []
    created_at = now - timedelta(days=14)
    for index in range(160):
        # Every fourth follow-up shares its timestamp with the one before (bulk triage),
        # which is exactly what cursor pagination must get right.
        if index % 4 != 3:
            created_at += timedelta(minutes=rng.randint(20, 220))
        provider_id, provider_name, ctx_id, ctx_label, ctx_type = PROVIDERS[index % len(PROVIDERS)]
        action = ["pause", "resume", "escalate"][rng.choices([0, 1, 2], weights=[5, 4, 2])[0]]
        historical = rng.random() < 0.4
        slice_day = (created_at - timedelta(days=1)).strftime("%Y-%m-%d")
        rows.append(
            GuardrailFollowUp(
                id=demo_id("follow-up", index),
                provider_id=provider_id,
                provider_name=provider_name,
                action=action,
                notes=rng.choice(FOLLOW_UP_NOTES[action]),
                platform_context_id=ctx_id,
                platform_context_label=ctx_label,
                platform_context_handle=f"@{provider_id.removeprefix('prov-')}_{rng.randint(1, 40)}",
                platform_context_type=ctx_type,
                conversion_cursor=f"{slice_day}T00:00:00Z" if historical else None,
                conversion_href=(
                    f"https://admin.smplat.io/admin/reports/conversions?provider={provider_id}"
                    + (f"&cursor={slice_day}T00:00:00Z" if historical else "")
                ),
                created_at=min(created_at, now - timedelta(minutes=5)),
            )
        )
    insert_new(GuardrailFollowUp, rows, report, "guardrail follow-ups")


def seed_automation_runs(now: datetime, report: SeedReport, rng_seed: int) -> None:
    rows = []
    hour = (now - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    while hour <= now - timedelta(minutes=15):
        rng = random.Random(f"{rng_seed}/automation/{hour.isoformat()}")
        alerts = rng.choices([0, 0, 0, 1, 2, 3], k=1)[0]
        rows.append(
            ProviderAutomationRun(
                id=demo_id("automation", "alert", hour.isoformat()),
                kind="alert",
                outcome="succeeded" if rng.random() > 0.05 else "partial",
                ran_at=hour + timedelta(minutes=10),
                duration_ms=rng.randint(800, 5200),
                summary={
                    "providersChecked": len(PROVIDERS),
                    "alertsSent": alerts,
                    "breachedProviders": rng.sample([p[0] for p in PROVIDERS], k=alerts),
                },
            )
        )
        if hour.hour % 6 == 0:
            replayed = rng.randint(0, 12)
            failed = rng.choice([0, 0, 1]) if replayed else 0
            rows.append(
                ProviderAutomationRun(
                    id=demo_id("automation", "replay", hour.isoformat()),
                    kind="replay",
                    outcome="succeeded" if not failed else "partial",
                    ran_at=hour + timedelta(minutes=20),
                    duration_ms=rng.randint(2000, 15000),
                    summary={
                        "scheduled": replayed,
                        "processed": replayed - failed,
                        "failed": failed,
                    },
                )
            )
        hour += timedelta(hours=1)
    insert_new(ProviderAutomationRun, rows, report, "provider automation runs")


def seed(now: datetime, report: SeedReport, rng: Rng, seed: int) -> None:
    seed_follow_ups(now, report, rng("follow-ups"))
    seed_automation_runs(now, report, seed)
