"""Public status badges of the export feeds, as healthchecks has them: ``/badges/<key>.svg``
and ``/badges/<key>.json`` (SPEC §8). The key (``FeedState.badge_key``) is the only
credential: an unknown or rotated key is a 404 like any missing page, and a badge tells
nothing but the feed's state (the JSON adds since, rows behind and the last sync).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from exports import registry
from exports.models import FeedState
from reports.pages import health

COLOURS = {
    "fresh": "#2e9a5b",
    "running": "#2f6fb0",
    "late": "#b7791f",
    "never": "#6b6b6b",
    "stale": "#c0392b",
    "failing": "#c0392b",
    "stuck": "#c0392b",
}
LABEL = "export"
CHAR_WIDTH = 7  # px per character of 11px Verdana, near enough for a badge


def _card_for_key(key: str) -> health.FeedCard:
    feed = FeedState.objects.filter(badge_key=key).values_list("feed", flat=True).first()
    if feed is None or feed not in {d.name for d in registry.card_feeds()}:
        raise Http404("No such badge.")
    [card] = health.feed_cards([feed])
    return card


def badge_svg(state: str) -> str:
    """A flat two-part badge, ``export | <state>``; ``state`` is one of the fixed names."""
    left = len(LABEL) * CHAR_WIDTH + 12
    right = len(state) * CHAR_WIDTH + 12
    width = left + right
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img"'
        f' aria-label="{LABEL}: {state}"><title>{LABEL}: {state}</title>'
        f'<rect width="{left}" height="20" rx="3" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" rx="3" fill="{COLOURS[state]}"/>'
        f'<rect x="{left}" width="4" height="20" fill="{COLOURS[state]}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"'
        ' text-anchor="middle">'
        f'<text x="{left / 2}" y="14">{LABEL}</text>'
        f'<text x="{left + right / 2}" y="14">{state}</text></g></svg>'
    )


def _uncached(response: HttpResponse) -> HttpResponse:
    # Wikis and chat proxies cache images: keep them from showing a state for long.
    response["Cache-Control"] = "no-cache, max-age=0"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def feed_badge(request, key: str, kind: str):
    card = _card_for_key(key)
    if kind == "json":
        return _uncached(JsonResponse(card.health.as_json()))
    return _uncached(HttpResponse(badge_svg(card.state), content_type="image/svg+xml"))
