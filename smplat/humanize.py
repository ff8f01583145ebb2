"""Times, durations and rates as operators read them, for pages and the admin alike: times
in UTC with the zone said, durations at a glance."""

from datetime import UTC, datetime


def utc(value: object) -> str:
    """``2026-12-01 06:34:05 UTC``, whatever the active timezone."""
    if not isinstance(value, datetime):
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def seconds(value: object) -> str:
    """A duration in seconds: ``0.4 s``, ``3.2 s``, ``2 min 05 s``, ``1 h 02 min``."""
    if not isinstance(value, int | float):
        return "-"
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def per_second(value: object) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:,.0f}/s" if value >= 10 else f"{value:.1f}/s"


def counted(value: object, unit: str) -> str:
    """``1 row``, ``2 rows``, ``12,345 events``, ``100 000+ rows``: a count and its unit (given
    plural: ``rows``, ``events``), singular for exactly one."""
    if isinstance(value, int):
        shown = f"{value:,}"
    elif value is None:
        return "-"
    else:
        shown = str(value)  # already formatted (a capped count such as "100 000+")
    if shown == "1" and unit.endswith("s"):
        unit = unit[:-1]
    return f"{shown} {unit}"
