"""Template filters of the operator pages."""

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def web_link(value: object) -> str:
    """``value`` when it is an http(s) address, else "": a link stored before the model
    validated it (or written to the database directly) is shown as text, never as a
    javascript: or data: link."""
    if isinstance(value, str) and urlsplit(value.strip()).scheme.lower() in {"http", "https"}:
        return value
    return ""


@register.filter
def utc_minute(value: object) -> str:
    """An API timestamp (``2026-11-18T08:20:31.000000Z``) as ``2026-11-18 08:20``."""
    if not isinstance(value, str) or "T" not in value:
        return "" if value is None else str(value)
    day, _, clock = value.partition("T")
    return f"{day} {clock[:5]}"


@register.filter
def funnel_without_outcome(funnel: dict) -> int:
    """Starts of the quick-order funnel with neither a complete nor an abort in the window
    (sessions still open, or abandoned silently): the rest of "Of the starts". Never below 0:
    a window's edge can keep a session's outcome and cut its start."""
    starts = funnel.get("startCount") or 0
    ended = (funnel.get("completeCount") or 0) + (funnel.get("abortCount") or 0)
    return max(starts - ended, 0)
