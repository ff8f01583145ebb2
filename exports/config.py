"""A feed's configuration, read from Django settings once, typed and checked.

Every variable a feed uses is named by its declaration (``FeedDefinition.setting_names``):
``<PREFIX>_<FIELD>`` for the fields it declares, or an explicit name such as
``ANALYTICS_GUARDRAIL_WEBHOOK``. A name that settings do not define, or a value that cannot
work (an unknown sink, a status destination that is a URL, a schedule of 0 minutes), is an
``ImproperlyConfigured`` naming the variable, raised when the site starts
(``ExportsConfig.ready``), not a silent "not configured" in the middle of a run.

The values are cached per feed and re-read when a test changes a setting (Django's
``setting_changed`` signal), so nothing reads ``settings`` by string at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from exports.feeds import FeedDefinition

SINK_KINDS = ("stdout", "file", "webhook", "s3")


@dataclass(frozen=True)
class FeedConfig:
    """What the settings say about one feed; a field the feed does not declare stays empty."""

    feed: str
    # Where a run started by the site or a schedule sends rows, and its cursor store.
    sink: str = ""
    file_path: str = ""
    s3_uri: str = ""
    webhook_url: str = ""
    cursor_path: str = ""
    cursor_s3_uri: str = ""
    # Status payload: where runs write it, and where the site reads it (default: the same).
    status_s3_uri: str = ""
    status_url: str = ""
    slack_webhook: str = ""
    workflow_url: str = ""
    schedule_minutes: int = 0
    # Telemetry snapshots: the capture route's export URL and the landing bucket.
    url: str = ""
    bucket: str = ""
    s3_prefix: str = ""
    # "Run export now" may dispatch a workflow instead of running here.
    trigger_url: str = ""
    trigger_token: str = ""
    trigger_ref: str = ""
    # The variable behind each field, for messages that tell an operator what to set.
    names: tuple[tuple[str, str], ...] = ()

    def name_of(self, field: str) -> str:
        return dict(self.names)[field]

    @property
    def status_location(self) -> str:
        """Where the site reads the status: ``*_STATUS_URL``, else where runs write it."""
        return self.status_url or self.status_s3_uri

    @property
    def dispatches(self) -> bool:
        """ "Run export now" hands the run to a workflow (``*_TRIGGER_URL`` is set)."""
        return bool(self.trigger_url)


# How each field's value is read and checked.
_INT_FIELDS = {"schedule_minutes"}


def load_config(definition: FeedDefinition) -> FeedConfig:
    """Read and check the feed's settings; ImproperlyConfigured names the first bad one."""
    values: dict[str, Any] = {}
    names = definition.setting_names()
    for field, name in names.items():
        try:
            value = getattr(settings, name)
        except AttributeError:
            raise ImproperlyConfigured(
                f"{name} is not defined in the settings (feed {definition.name})"
            ) from None
        problem = _problem(field, value)
        if problem:
            raise ImproperlyConfigured(f"{name}: {problem}")
        values[field] = value if field in _INT_FIELDS else (value or "")
    known = {f.name for f in fields(FeedConfig)}
    unknown = set(values) - known
    if unknown:
        raise ImproperlyConfigured(f"feed {definition.name} declares unknown settings {unknown}")
    return FeedConfig(feed=definition.name, names=tuple(names.items()), **values)


def _problem(field: str, value: Any) -> str | None:
    if field in _INT_FIELDS:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"must be a whole number of at least 1, not {value!r}"
        return None
    if value is None:
        return None
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    if not value:
        return None
    scheme = urlsplit(value).scheme
    if field == "sink" and value not in SINK_KINDS:
        return f"{value!r} is not a sink (one of {', '.join(SINK_KINDS)})"
    if field in {"s3_uri", "cursor_s3_uri"} and (scheme != "s3" or not urlsplit(value).netloc):
        return "must be an s3://bucket/prefix URI"
    if field == "status_s3_uri":
        from exports.status import check_status_destination

        try:
            check_status_destination(value)
        except ValueError as exc:
            return str(exc)
    if field == "status_url" and scheme not in {"", "file", "s3", "http", "https"}:
        return f"unsupported scheme {scheme}:// (use https://, s3:// or a local path)"
    if field in {"webhook_url", "url", "trigger_url", "slack_webhook"} and scheme not in {
        "http",
        "https",
    }:
        return "must be an http(s):// URL"
    return None


_configs: dict[str, FeedConfig] = {}


def config_for(definition: FeedDefinition) -> FeedConfig:
    """The feed's checked configuration, read on first use and kept."""
    config = _configs.get(definition.name)
    if config is None:
        config = _configs[definition.name] = load_config(definition)
    return config


def forget_configs(**_kwargs) -> None:
    """Connected to ``setting_changed``: the next use reads the settings again."""
    _configs.clear()
