"""The onboarding checklist every journey starts with, in the order customers see it."""

ONBOARDING_CHECKLIST: list[tuple[str, str]] = [
    ("account_handles", "Share the social account handles"),
    ("targeting_brief", "Confirm audience and targeting brief"),
    ("brand_assets", "Upload brand assets"),
    ("kickoff_call", "Book the kickoff call"),
    ("first_delivery_review", "Review the first delivery"),
]

CHECKLIST_KEYS = frozenset(key for key, _ in ONBOARDING_CHECKLIST)
