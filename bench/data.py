"""The bench's data set, made in SQL (``INSERT ... SELECT generate_series``), not in Python.

Row ``g`` of each table is a pure function of ``g``, so the set can be grown in steps (the
pages are measured at 1 000 rows, then the same tables are filled up to the full scale) and
two runs at one scale hold the same rows. About 20% of the rows share their timestamp with
another row (rows ``g`` with ``g % 10 == 1`` take the timestamp of row ``g - 1``), so every
keyset walk has ties to get right. Text holds what breaks naive encoders: quotes,
backslashes, non-ASCII, newlines, and cells a spreadsheet would run as a formula.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

# Rows are spaced 1.234567 s apart: 1 000 000 rows span about two weeks, in the past.
STEP_MICROSECONDS = 1_234_567
PROVIDERS = 40
EVENTS_PER_JOURNEY = 4
EXPERIMENTS = {
    "spring-offer": ["control", "discount-10", "discount-20"],
    "bundle-anchor": ["control", "anchor-high"],
    "annual-nudge": ["control", "nudge-banner", "nudge-modal"],
    "trial-length": ["control", "trial-14"],
}
VARIANTS = [(slug, key) for slug, keys in EXPERIMENTS.items() for key in keys]

# The timestamp of row g: ties for ~20% of the rows, strictly increasing otherwise.
_TS = (
    "%(base)s::timestamptz"
    " + make_interval(secs => (({n} - ({n} %% 10 = 1)::int)::bigint * {step}) / 1e6)"
)
TIMESTAMP = _TS.format(n="g", step=STEP_MICROSECONDS)


def time_base() -> datetime:
    """Where row 0 sits: far enough in the past that 1M rows end before now minus any lag."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT date_trunc('second', now()) - interval '40 days'")
        return cursor.fetchone()[0]


def follow_ups(start: int, stop: int, base: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO reports_guardrailfollowup (
                id, provider_id, provider_name, action, notes, platform_context_id,
                platform_context_label, platform_context_handle, platform_context_type,
                conversion_cursor, conversion_href, created_at)
            SELECT md5('follow-up-' || g)::uuid,
                   'prov-' || (g %% {PROVIDERS}),
                   'Provider ' || (g %% {PROVIDERS}) || ' «Ünïcode»',
                   (ARRAY['pause', 'resume', 'escalate'])[1 + g %% 3],
                   CASE WHEN g %% 7 = 0 THEN NULL
                        ELSE 'Velocity over the "guardrail" \\ ' || g || E'\\nsecond line' END,
                   CASE WHEN g %% 5 = 0 THEN NULL ELSE 'instagram' END,
                   CASE WHEN g %% 5 = 0 THEN NULL ELSE 'Instagram DM Concierge' END,
                   CASE WHEN g %% 5 IN (0, 1) THEN NULL ELSE '@smplat_' || (g %% 97) END,
                   CASE WHEN g %% 5 = 0 THEN NULL ELSE 'social' END,
                   CASE WHEN g %% 2 = 0 THEN NULL ELSE 'conv-' || g END,
                   CASE WHEN g %% 2 = 0 THEN NULL
                        ELSE 'https://reports.smplat.test/conversions?cursor=conv-' || g END,
                   {TIMESTAMP}
            FROM generate_series(%(start)s, %(stop)s - 1) AS g
            """,  # noqa: S608 - constants of this module, values as parameters
            {"start": start, "stop": stop, "base": base},
        )


def onboarding(start: int, stop: int, base: datetime) -> None:
    """Events ``start..stop`` (one pricing experiment each), their journeys and checklists."""
    journeys = (
        (start + EVENTS_PER_JOURNEY - 1) // EVENTS_PER_JOURNEY,
        (stop + EVENTS_PER_JOURNEY - 1) // EVENTS_PER_JOURNEY,
    )
    slugs = "ARRAY[" + ", ".join(f"'{slug}'" for slug, _ in VARIANTS) + "]"
    keys = "ARRAY[" + ", ".join(f"'{key}'" for _, key in VARIANTS) + "]"
    params = {"start": start, "stop": stop, "base": base, "j0": journeys[0], "j1": journeys[1]}
    journey_ts = _TS.format(n="j", step=STEP_MICROSECONDS * EVENTS_PER_JOURNEY)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO telemetry_onboardingjourney
                (id, order_id, order_number, status, created_at, updated_at)
            SELECT md5('journey-' || j)::uuid, md5('order-' || j)::uuid, 'SO-' || j,
                   (ARRAY['active', 'completed', 'active', 'stalled'])[1 + j %% 4],
                   {journey_ts}, {journey_ts}
            FROM generate_series(%(j0)s, %(j1)s - 1) AS j
            """,  # noqa: S608
            params,
        )
        cursor.execute(
            """
            INSERT INTO telemetry_onboardingjourneytask
                (journey_id, key, title, position, completed, completed_at)
            SELECT md5('journey-' || j)::uuid, t.key, t.title, t.position,
                   t.position < j %% 6, CASE WHEN t.position < j %% 6 THEN now() END
            FROM generate_series(%(j0)s, %(j1)s - 1) AS j,
                 (VALUES ('account_handles', 'Share the social account handles', 0),
                         ('targeting_brief', 'Confirm audience and targeting brief', 1),
                         ('brand_assets', 'Upload brand assets', 2),
                         ('kickoff_call', 'Book the kickoff call', 3),
                         ('first_delivery_review', 'Review the first delivery', 4))
                     AS t(key, title, position)
            """,
            params,
        )
        variant = f"1 + g %% {len(VARIANTS)}"
        cursor.execute(
            f"""
            INSERT INTO telemetry_onboardingjourneyevent
                (id, journey_id, event_type, task_key, metadata, recorded_at)
            SELECT md5('event-' || g)::uuid, md5('journey-' || (g / {EVENTS_PER_JOURNEY}))::uuid,
                   'pricing_assigned', NULL,
                   jsonb_build_object('pricing_experiment_segment', jsonb_build_object(
                       'slug', ({slugs})[{variant}], 'variantKey', ({keys})[{variant}],
                       'isControl', ({keys})[{variant}] = 'control')),
                   {TIMESTAMP}
            FROM generate_series(%(start)s, %(stop)s - 1) AS g
            """,  # noqa: S608
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO telemetry_pricingexperimentsegment (
                event_id, position, journey_id, order_id, order_number, slug, variant_key,
                variant_name, is_control, status, feature_flag_key, assignment_strategy,
                recorded_at)
            SELECT md5('event-' || g)::uuid, 0,
                   md5('journey-' || (g / {EVENTS_PER_JOURNEY}))::uuid,
                   md5('order-' || (g / {EVENTS_PER_JOURNEY}))::uuid,
                   'SO-' || (g / {EVENTS_PER_JOURNEY}),
                   ({slugs})[{variant}], ({keys})[{variant}],
                   CASE WHEN g %% 50 = 0 THEN '=HYPERLINK("http://x")'
                        ELSE 'Variant, "' || ({keys})[{variant}] || '"' END,
                   ({keys})[{variant}] = 'control',
                   CASE WHEN g %% 9 = 0 THEN NULL ELSE 'running' END,
                   'pricing_lab', CASE WHEN g %% 3 = 0 THEN '' ELSE 'sequential' END,
                   {TIMESTAMP}
            FROM generate_series(%(start)s, %(stop)s - 1) AS g
            """,  # noqa: S608
            params,
        )


def windows_and_runs() -> None:
    """Full telemetry windows (the window plus its trim slack) and a run history per feed."""
    from exports.models import Feed
    from telemetry.models import WINDOW_TRIM_SLACK, GuardrailWorkflowEvent, QuickOrderEvent

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO telemetry_quickorderevent (event_id, session_id, event_name, product_id,
                product_title, platform_context, metadata, recorded_at)
            SELECT gen_random_uuid(), 'session-' || (g %% 500),
                   (ARRAY['quick_order.start', 'quick_order.abort', 'quick_order.complete'])
                       [1 + g %% 3],
                   'product-' || (g %% 30), 'Product ' || (g %% 30), 'instagram',
                   CASE WHEN g %% 3 = 1 THEN jsonb_build_object('reason', 'reason-' || (g %% 5))
                        ELSE '{}'::jsonb END,
                   now() - make_interval(secs => %(n)s - g)
            FROM generate_series(1, %(n)s) AS g
            """,
            {"n": QuickOrderEvent.WINDOW + WINDOW_TRIM_SLACK},
        )
        cursor.execute(
            """
            INSERT INTO telemetry_guardrailworkflowevent (event_id, provider_id, provider_name,
                workflow_action, source, metadata, recorded_at)
            SELECT gen_random_uuid(), 'prov-' || (g %% 40), 'Provider ' || (g %% 40),
                   (ARRAY['attachment.upload', 'guardrail.pause', 'guardrail.resume'])[1 + g %% 3],
                   'admin', jsonb_build_object('sizeBytes', g), now() - make_interval(secs => g)
            FROM generate_series(1, %(n)s) AS g
            """,
            {"n": GuardrailWorkflowEvent.WINDOW + WINDOW_TRIM_SLACK},
        )
        for feed in Feed.values:
            cursor.execute(
                """
                INSERT INTO exports_exportrun (feed, trigger, outcome, rows, cursor_before,
                    cursor_after, sink, error, external_url, created_at, started_at, finished_at)
                SELECT %(feed)s, 'schedule', (ARRAY['succeeded', 'no_data', 'failed'])[1 + g %% 3],
                       g * 100, NULL, NULL, 'file',
                       CASE WHEN g %% 3 = 2 THEN 'webhook answered 503' ELSE '' END, '',
                       now() - make_interval(hours => 60 - g), now() - make_interval(hours => 60 - g),
                       now() - make_interval(hours => 60 - g)
                FROM generate_series(1, 60) AS g
                """,
                {"feed": feed},
            )


def analyze() -> None:
    """What autovacuum does to a settled table: statistics, and the visibility map that
    lets index-only scans (keyset page ends, loose index scans) skip the heap."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
