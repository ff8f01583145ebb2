"""The feeds the site exports, registered by the apps that own their data.

Each app declares its feeds in its ``feeds.py`` (``reports/feeds.py``, ``telemetry/feeds.py``)
and calls ``register``; ``ExportsConfig.ready`` imports every installed app's ``feeds``
module (as the admin autodiscovers ``admin.py``) and checks each feed's settings, so a
misconfigured variable stops the site at start-up with its name. The engine, the commands
and the pages look feeds up here and import no app's models.
"""

from __future__ import annotations

from typing import TypeVar

from django.utils.module_loading import autodiscover_modules

from exports.feeds import ApiFeed, FeedDefinition, RowFeed, SnapshotFeed
from exports.models import Feed
from exports.warehouse import WarehouseTable

_feeds: dict[str, FeedDefinition] = {}

F = TypeVar("F", bound=FeedDefinition)


def register(definition: F) -> F:
    if definition.name in _feeds and _feeds[definition.name] is not definition:
        raise ValueError(f"feed {definition.name} is declared twice")
    _feeds[definition.name] = definition
    return definition


def autodiscover() -> None:
    autodiscover_modules("feeds")


def feed(name: str) -> FeedDefinition:
    """The declaration of ``name``; KeyError for a feed nobody declared."""
    return _feeds[name]


def feeds() -> list[FeedDefinition]:
    return list(_feeds.values())


def row_feed(name: str) -> RowFeed | ApiFeed:
    definition = _feeds[name]
    if not isinstance(definition, RowFeed | ApiFeed):
        raise KeyError(f"{name} is not a row feed")
    return definition


def snapshot_feeds() -> list[SnapshotFeed]:
    return [d for d in _feeds.values() if isinstance(d, SnapshotFeed)]


def card_feeds() -> list[FeedDefinition]:
    """The feeds with an export-health card, in page order."""
    return sorted((d for d in _feeds.values() if d.card), key=lambda d: d.card.order)


def warehouse_tables() -> dict[str, WarehouseTable]:
    """Every feed's warehouse table (``manage.py warehouse_sql``), in the feeds' one order."""
    order = list(Feed.values)  # whoever registered first
    declared = sorted(_feeds.values(), key=lambda d: order.index(d.name))
    return {d.name: d.warehouse for d in declared if d.warehouse is not None}


def check_configuration() -> None:
    """Read every feed's settings once: ImproperlyConfigured names the first bad variable."""
    for definition in _feeds.values():
        definition.config  # noqa: B018 - loaded for its checks
