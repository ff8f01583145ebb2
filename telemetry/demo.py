"""Demo telemetry: the quick-order and guardrail workflow windows, onboarding journeys and
their experiment segments, offer events, chat telemetry and its rollups, the GDPR audit log
(part of ``smplat.demo.seed_dashboard``)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import transaction

from exports.models import Feed
from exports.registry import feed as registered_feed
from exports.status import status_write
from smplat.cursors import format_timestamp
from smplat.demo import PROVIDERS, Rng, SeedReport, demo_id, insert_new
from telemetry import services as telemetry_services
from telemetry.checklist import ONBOARDING_CHECKLIST
from telemetry.metrics import QuickOrderMetrics
from telemetry.models import (
    GUARDRAIL_WORKFLOW_WINDOW,
    QUICK_ORDER_WINDOW,
    ChatConversation,
    ChatMessage,
    CheckoutOfferEvent,
    GdprAuditLog,
    GuardrailWorkflowEvent,
    OnboardingJourney,
    QuickOrderEvent,
)
from telemetry.rollups import rollups_refresh
from telemetry.selectors import quick_order_export

QUICK_ORDER_PRODUCTS = [
    ("ig-followers-1k", "Instagram Followers – 1,000", "instagram"),
    ("ig-likes-500", "Instagram Likes – 500", "instagram"),
    ("tt-views-10k", "TikTok Views – 10,000", "tiktok"),
    ("tt-followers-2k", "TikTok Followers – 2,000", "tiktok"),
    ("yt-watch-hours", "YouTube Watch Hours – 4,000", "youtube"),
    ("yt-subscribers-500", "YouTube Subscribers – 500", "youtube"),
    ("sp-reviews-25", "Shopify Product Reviews – 25", "shopify"),
]

ABORT_REASONS = [
    "payment_declined",
    "price_changed",
    "closed_modal",
    "handle_not_found",
    "shipping_too_slow",
]

WORKFLOW_ACTIONS = [
    ("note.update", 30),
    ("attachment.upload", 18),
    ("queue.pause", 10),
    ("queue.resume", 8),
    ("snippet.copy", 16),
    ("slack.compose", 12),
    ("escalation.open", 6),
]

EXPERIMENTS = [
    # slug, feature flag, status, strategy, variants (key, name, is_control)
    (
        "spring-offer",
        "pricing_lab_spring_offer",
        "running",
        "sequential",
        [
            ("control", "Standard pricing", True),
            ("spring-15", "15% spring discount", False),
            ("spring-bundle", "Spring bundle", False),
        ],
    ),
    (
        "bundle-anchor",
        "pricing_lab_bundle_anchor",
        "running",
        "feature_flag_demo",
        [("control", "Single product", True), ("anchor-3pack", "3-pack anchor", False)],
    ),
    (
        "loyalty-upsell",
        "pricing_lab_loyalty",
        "paused",
        "sequential",
        [("control", "No upsell", True), ("loyalty-points-2x", "Double loyalty points", False)],
    ),
]

OFFERS = ["followers-bundle-upgrade", "priority-delivery", "retention-guarantee", "analytics-addon"]

CHAT_DOMAINS = ["shop.smplat.io", "instaboost.smplat.io", "creators.smplat.io"]

CHAT_MODELS = [
    ("gpt-4o-mini", 650, 0.6),
    ("claude-3-5-haiku", 820, 0.3),
    ("llama-3.1-70b", 1400, 0.1),
]


def seed_quick_order_window(now: datetime, report: SeedReport, rng: random.Random) -> None:
    have = QuickOrderEvent.objects.window().count()
    if have >= QUICK_ORDER_WINDOW:
        return  # a full window: demo rows would push real events out
    rows = []
    session = 0
    moment = now - timedelta(days=3)
    step = timedelta(days=3) / QUICK_ORDER_WINDOW
    while len(rows) < QUICK_ORDER_WINDOW:
        session += 1
        product_id, title, platform = rng.choice(QUICK_ORDER_PRODUCTS)
        session_id = f"sess_{demo_id('qo-session', session).hex[:12]}"
        outcome = rng.choices(["complete", "abort", "open"], weights=[58, 27, 15])[0]
        steps = [("quick_order.start", {"entry": rng.choice(["pdp", "collection", "search"])})]
        if outcome == "complete":
            steps.append(
                (
                    "quick_order.complete",
                    {"outcome": "paid", "amountCents": rng.choice([499, 999, 1999, 4999])},
                )
            )
        elif outcome == "abort":
            steps.append(("quick_order.abort", {"reason": rng.choice(ABORT_REASONS)}))
        for event_name, metadata in steps:
            moment += step
            rows.append(
                QuickOrderEvent(
                    event_id=demo_id("quick-order", session, event_name),
                    session_id=session_id,
                    event_name=event_name,
                    product_id=product_id,
                    product_title=title,
                    platform_context=platform,
                    metadata=metadata,
                    recorded_at=moment,
                )
            )
    rows = rows[: QUICK_ORDER_WINDOW - have]
    insert_new(QuickOrderEvent, rows, report, "quick-order events", key="event_id")
    telemetry_services.window_trim(model=QuickOrderEvent)


# The demo's quick-order snapshot leaves out one abort line in this many, as an upload that
# lost lines would, so its abortCount is ~12% below the local window's and the drift flag of
# /admin/reports/ shows on that one metric (starts, completes and the rate still agree).
DEMO_SNAPSHOT_DROPS_EVERY_NTH_ABORT = 8


def seed_quick_order_status(now: datetime, report: SeedReport) -> None:
    """The status payload a quick-order export of the demo window would have written, at the
    feed's status URL when that is a local file (``make run``: .data/demo-exports/), so the
    page's "Exported metrics" compare with something. Rewritten on every seed: it describes
    the window as it is now. Counted line by line over the capture route's own NDJSON with
    ``QuickOrderMetrics``, as the exporter counts."""
    destination = registered_feed(Feed.QUICK_ORDER_TELEMETRY).config.status_url
    if not destination or urlsplit(destination).scheme not in {"", "file"}:
        return  # the demo writes local files only, never S3 or a URL someone configured
    metrics = QuickOrderMetrics()
    events = aborts = 0
    for chunk in quick_order_export().lines:
        for line in chunk.splitlines():
            event = json.loads(line)
            if event["eventName"] == QuickOrderEvent.EventName.ABORT:
                aborts += 1
                if aborts % DEMO_SNAPSHOT_DROPS_EVERY_NTH_ABORT == 0:
                    continue
            metrics.add(event)
            events += 1
    if not events:
        return
    status_write(
        destination,
        {
            "syncedAt": format_timestamp(now),
            "events": events,
            "downloadUrl": None,  # the demo uploads no snapshot to S3
            "workflowUrl": None,
            "metrics": metrics.result(),
            "malformedLines": 0,
        },
    )
    report.add("quick-order status payloads", 1)


def seed_guardrail_workflow_window(now: datetime, report: SeedReport, rng: random.Random) -> None:
    have = GuardrailWorkflowEvent.objects.window().count()
    if have >= GUARDRAIL_WORKFLOW_WINDOW:
        return
    actions = [a for a, _ in WORKFLOW_ACTIONS]
    weights = [w for _, w in WORKFLOW_ACTIONS]
    step = timedelta(days=5) / GUARDRAIL_WORKFLOW_WINDOW
    rows = []
    for index in range(GUARDRAIL_WORKFLOW_WINDOW - have):
        provider_id, provider_name, platform, _, _ = rng.choice(PROVIDERS)
        action = rng.choices(actions, weights=weights)[0]
        metadata: dict = {"queue": rng.choice(["guardrail-alerts", "refill-review", "escalations"])}
        if action == "attachment.upload":
            metadata.update(
                attachmentId=f"att_{demo_id('att', index).hex[:10]}",
                sizeBytes=rng.randint(20_000, 4_000_000),
                contentType=rng.choice(["image/png", "application/pdf", "text/csv"]),
            )
        elif action == "snippet.copy":
            metadata.update(
                snippet=rng.choice(["pause-notice", "resume-notice", "escalation-macro"])
            )
        rows.append(
            GuardrailWorkflowEvent(
                event_id=demo_id("guardrail-workflow", index),
                provider_id=provider_id,
                provider_name=provider_name,
                workflow_action=action,
                source=rng.choices(["admin", "automation"], weights=[85, 15])[0],
                guardrail_platform_slug=platform,
                guardrail_status=rng.choices(["healthy", "warning", "breached"], weights=[6, 3, 1])[
                    0
                ],
                metadata=metadata,
                recorded_at=now - timedelta(days=5) + step * index,
            )
        )
    insert_new(GuardrailWorkflowEvent, rows, report, "guardrail workflow events", key="event_id")
    telemetry_services.window_trim(model=GuardrailWorkflowEvent)


def seed_onboarding(now: datetime, report: SeedReport, rng: random.Random) -> None:
    existing = set(OnboardingJourney.objects.values_list("order_id", flat=True))
    task_keys = [key for key, _ in ONBOARDING_CHECKLIST]
    for index in range(120):
        order_id = demo_id("order", index)
        if order_id in existing:
            continue
        order_number = f"SMP-{24000 + index * 7}"
        started = now - timedelta(days=21) + timedelta(hours=4 * index, minutes=rng.randint(0, 59))
        experiments = rng.sample(EXPERIMENTS, k=rng.choice([1, 1, 2]))
        segments = []
        for slug, flag, status, strategy, variants in experiments:
            key, name, is_control = rng.choice(variants)
            segments.append(
                {
                    "slug": slug,
                    "variantKey": key,
                    "variantName": name,
                    "isControl": is_control,
                    "status": status,
                    "featureFlagKey": flag,
                    "assignmentStrategy": strategy,
                }
            )
        surface = rng.choice(["checkout", "success", "account"])
        with transaction.atomic():
            telemetry_services.onboarding_event_record(
                order_id=order_id,
                order_number=order_number,
                event_type="journey_started",
                metadata={
                    "surface": surface,
                    # One experiment is stored as an object, several as a list, as clients send.
                    "pricing_experiment_segment": segments[0] if len(segments) == 1 else segments,
                },
                recorded_at=started,
            )
            moment = started
            for task_key in task_keys[: rng.randint(0, len(task_keys))]:
                moment += timedelta(hours=rng.randint(1, 30))
                if moment >= now:
                    break
                telemetry_services.onboarding_event_record(
                    order_id=order_id,
                    event_type="task_completed",
                    task_key=task_key,
                    completed=True,
                    metadata={"surface": "account"},
                    recorded_at=moment,
                )
        report.add("onboarding journeys", 1)


def seed_offer_events(now: datetime, report: SeedReport, rng: random.Random) -> None:
    rows = []
    for index in range(900):
        slug = OFFERS[index % len(OFFERS)]
        recorded_at = now - timedelta(days=30) + timedelta(minutes=48 * index + rng.randint(0, 40))
        clicked = rng.random() < 0.18
        rows.append(
            CheckoutOfferEvent(
                id=demo_id("offer", index, "impression"),
                offer_slug=slug,
                event_type="impression",
                order_id=demo_id("order", index % 120),
                session_id=f"sess_{demo_id('offer-session', index).hex[:12]}",
                metadata={
                    "placement": rng.choice(["cart_drawer", "checkout_summary", "thank_you"])
                },
                recorded_at=recorded_at,
            )
        )
        if clicked:
            rows.append(
                CheckoutOfferEvent(
                    id=demo_id("offer", index, "cta_click"),
                    offer_slug=slug,
                    event_type="cta_click",
                    order_id=demo_id("order", index % 120),
                    session_id=rows[-1].session_id,
                    metadata={"cta": "add_to_order"},
                    recorded_at=recorded_at + timedelta(seconds=rng.randint(3, 90)),
                )
            )
    insert_new(CheckoutOfferEvent, [r for r in rows if r.recorded_at < now], report, "offer events")


def seed_chat_telemetry(now: datetime, report: SeedReport, rng_seed: int) -> None:
    """Conversations for every hour of the last 7 days, generated per hour bucket."""
    first_hour = (now - timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    conversations, messages = [], []
    hour = first_hour
    while hour <= now:
        # A per-hour generator: the same hour always yields the same rows, whenever seeded.
        rng = random.Random(f"{rng_seed}/{hour.isoformat()}")
        busy = 3 + (6 if 8 <= hour.hour <= 20 else 0)
        for conv_index in range(rng.randint(busy // 2, busy)):
            started = hour + timedelta(minutes=rng.randint(0, 50))
            if started > now:
                break
            domain = rng.choice(CHAT_DOMAINS)
            conversation_id = demo_id("chat", hour.isoformat(), conv_index)
            conversations.append(
                ChatConversation(
                    id=conversation_id,
                    domain=domain,
                    channel=rng.choice(["web", "web", "whatsapp"]),
                    started_at=started,
                )
            )
            moment = started
            for turn in range(rng.randint(1, 4)):
                moment += timedelta(seconds=rng.randint(10, 90))
                messages.append(
                    ChatMessage(
                        id=demo_id("chat-msg", conversation_id, turn, "user"),
                        conversation_id=conversation_id,
                        role="user",
                        domain=domain,
                        input_tokens=0,
                        output_tokens=0,
                        created_at=moment,
                    )
                )
                model, latency, _ = rng.choices(CHAT_MODELS, weights=[m[2] for m in CHAT_MODELS])[0]
                took = int(rng.gauss(latency, latency * 0.25))
                moment += timedelta(milliseconds=max(took, 120))
                messages.append(
                    ChatMessage(
                        id=demo_id("chat-msg", conversation_id, turn, "assistant"),
                        conversation_id=conversation_id,
                        role="assistant",
                        domain=domain,
                        model=model,
                        latency_ms=max(took, 120),
                        input_tokens=rng.randint(300, 1800),
                        output_tokens=rng.randint(40, 420),
                        succeeded=rng.random() > 0.02,
                        created_at=moment,
                    )
                )
        hour += timedelta(hours=1)
    insert_new(ChatConversation, conversations, report, "chat conversations")
    insert_new(ChatMessage, [m for m in messages if m.created_at <= now], report, "chat messages")
    rollups_refresh()


def seed_gdpr_audit(now: datetime, report: SeedReport, rng_seed: int) -> None:
    rows = []
    hour = (now - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    while hour <= now:
        rng = random.Random(f"{rng_seed}/gdpr/{hour.isoformat()}")
        if hour.hour % 3 == 0 or rng.random() < 0.2:
            action = rng.choices(
                ["access_request", "export", "deletion", "consent_update", "retention_purge"],
                weights=[3, 3, 2, 5, 1],
            )[0]
            created_at = hour + timedelta(minutes=rng.randint(0, 59))
            if created_at <= now:
                rows.append(
                    GdprAuditLog(
                        id=demo_id("gdpr", hour.isoformat()),
                        action=action,
                        outcome=rng.choices(["completed", "pending", "failed"], weights=[90, 8, 2])[
                            0
                        ],
                        subject_reference=f"cust_{demo_id('gdpr-subject', rng.randint(1, 400)).hex[:10]}",
                        actor=rng.choice(
                            ["privacy-bot", "ops:maria", "ops:kenji", "retention-job"]
                        ),
                        details={
                            "channel": rng.choice(["email", "account_settings", "support_ticket"])
                        },
                        created_at=created_at,
                    )
                )
        hour += timedelta(hours=1)
    insert_new(GdprAuditLog, rows, report, "GDPR audit entries")


def seed(now: datetime, report: SeedReport, rng: Rng, seed: int) -> None:
    seed_quick_order_window(now, report, rng("quick-order"))
    seed_quick_order_status(now, report)
    seed_guardrail_workflow_window(now, report, rng("guardrail-workflow"))
    seed_onboarding(now, report, rng("onboarding"))
    seed_offer_events(now, report, rng("offers"))
    seed_chat_telemetry(now, report, seed)
    seed_gdpr_audit(now, report, seed)
