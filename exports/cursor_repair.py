"""Moving a feed's stored cursor by hand: rewind (re-send from a time on), reset (from the
beginning) or set (an exact cursor), for the feed card and ``manage.py export_cursor``.

    preview = cursor_preview(feed="guardrail_followups", target=rewind_target(definition, at=t))
    change = cursor_change_apply(feed=..., target=preview.cursor_to, reason="warehouse lost a day",
                                 changed_by=user, via="card", expected_from=preview.cursor_from)

The change is written to the cursor store the scheduled runs and "Run export now" use (the
feed's ``*_CURSOR_S3_URI`` or ``*_CURSOR_PATH``) while holding the feed's advisory lock, the
one every run takes (``exports/locks.py``): a run cannot start in the middle, and a change is
refused while a run holds the lock or is queued for the worker. Every change is a
``CursorChange`` row (who, when, from, to, why, rows to re-send).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exports import registry
from exports.cursors import Checkpoint, CursorStore, CursorStoreError, build_cursor_store
from exports.feeds import RowFeed
from exports.locks import FeedBusy, feed_lock
from exports.models import CursorChange, ExportRun
from smplat.audit.services import audit_record
from smplat.cursors import Cursor, InvalidCursor, format_cursor, parse_cursor, rows_after
from smplat.watermark import commit_watermark

# The expected cursor of a change that checks nothing (the command, run by hand).
ANY = object()


class CursorChangeRefused(Exception):
    """The change cannot be made; the message says why, for the operator. Nothing changed."""


class NoCursor(CursorChangeRefused):
    """There is no such feed, or it has no cursor (a snapshot): nothing to move, anywhere."""


@dataclass(frozen=True)
class CursorPreview:
    feed: str
    cursor_from: str | None  # the stored cursor now (None: the beginning)
    cursor_to: str | None
    rows: int  # rows after cursor_to the next run sends, at most ``cap``
    capped: bool  # there are more than ``rows``

    @property
    def rows_text(self) -> str:
        """``1 204`` or ``100 000+`` (the count stops at the cap)."""
        return f"{self.rows:,}".replace(",", " ") + ("+" if self.capped else "")


def rewindable_feed(feed: str) -> RowFeed:
    """The feed, if its cursor can be moved here: a row feed of this database with a cursor
    store configured for the site's runs."""
    try:
        definition = registry.feed(feed)
    except KeyError:
        raise NoCursor(f"there is no feed named {feed!r}") from None
    if not isinstance(definition, RowFeed):
        raise NoCursor(f"{definition.label} has no cursor to move")
    config = definition.config
    if "cursor_path" not in definition.settings or not (config.cursor_path or config.cursor_s3_uri):
        raise CursorChangeRefused(f"{definition.label} has no cursor store configured")
    return definition


def cursor_store(definition: RowFeed) -> CursorStore:
    """The store the site's runs use (``services.options_from_settings``): S3 when
    ``*_CURSOR_S3_URI`` is set, else the ``*_CURSOR_PATH`` file."""
    config = definition.config
    if config.cursor_s3_uri:
        return build_cursor_store("s3", uri=config.cursor_s3_uri)
    return build_cursor_store("file", path=config.cursor_path)


def rewind_target(definition: RowFeed, *, at: datetime) -> str | None:
    """The cursor from which the next run re-sends every row stamped ``at`` or later: the
    position of the last row before ``at`` (None when there is none: the beginning)."""
    if at.tzinfo is None:
        raise CursorChangeRefused("the time needs a timezone (times are UTC)")
    if at > timezone.now():
        raise CursorChangeRefused(f"{at:%Y-%m-%d %H:%M:%S} UTC is in the future")
    ts = definition.timestamp_field
    before = (
        definition.model.objects.filter(**{f"{ts}__lt": at})
        .order_by(f"-{ts}", "-id")
        .values_list(ts, "id")
        .first()
    )
    return format_cursor(*before) if before else None


def parse_target(definition: RowFeed, text: str) -> str:
    """An exact cursor typed by an operator, checked against the feed: well formed, not in
    the future, and when it names a row, a row of this feed."""
    try:
        cursor = parse_cursor(text, id_kind=definition.id_kind)
    except InvalidCursor as exc:
        raise CursorChangeRefused(f"not a cursor of {definition.label}: {exc}") from exc
    if cursor.timestamp > timezone.now():
        raise CursorChangeRefused(f"{cursor} is in the future")
    if cursor.id is not None:
        exists = definition.model.objects.filter(
            **{"id": cursor.id, definition.timestamp_field: cursor.timestamp}
        ).exists()
        if not exists:
            raise CursorChangeRefused(
                f"{cursor} names no row of {definition.label} (a cursor of another feed?)"
            )
    return str(cursor)


def _load(store: CursorStore) -> str | None:
    try:
        return store.load()
    except CursorStoreError as exc:
        raise CursorChangeRefused(f"the stored cursor cannot be read: {exc}") from exc


def _position(definition: RowFeed, text: str | None) -> tuple:
    """A cursor as a sortable (timestamp, id) pair; None (the beginning) sorts first."""
    if text is None:
        return (datetime.min.replace(tzinfo=UTC),)
    cursor = parse_cursor(text, id_kind=definition.id_kind)
    # A bare timestamp is "after every row of that instant": it sorts after them.
    if cursor.id is None:
        return (cursor.timestamp, 1, "")
    # PostgreSQL orders uuids as lowercase hex text sorts; ints as numbers.
    return (cursor.timestamp, 0, definition.id_kind(cursor.id))


def rows_to_resend(
    definition: RowFeed, target: str | None, *, cap: int | None = None
) -> tuple[int, bool]:
    """How many rows a run starting now after ``target`` would send (the engine's filter and
    commit watermark), counted with a LIMIT so a rewind to the beginning of a huge table
    costs at most ``cap`` rows of index."""
    cap = settings.EXPORT_REWIND_COUNT_CAP if cap is None else cap
    ts = definition.timestamp_field
    base = definition.model.objects.filter(
        **{f"{ts}__lt": commit_watermark(settings.EXPORT_SAFETY_LAG_SECONDS).at}
    )
    start: Cursor | None = parse_cursor(target, id_kind=definition.id_kind) if target else None
    pending = rows_after(base, start, timestamp_field=ts).order_by(ts, "id")
    counted = pending.values("id")[: cap + 1].count()
    return min(counted, cap), counted > cap


def cursor_preview(*, feed: str, target: str | None) -> CursorPreview:
    """What moving ``feed``'s cursor to ``target`` would do; refused when it would move the
    cursor forward (that skips rows: nothing here does that)."""
    definition = rewindable_feed(feed)
    current = _load(cursor_store(definition))
    if _position(definition, target) > _position(definition, current):
        raise CursorChangeRefused(
            f"{target} is after the stored cursor {current or '(the beginning)'}: moving it"
            " forward would skip rows; only a rewind is possible"
        )
    rows, capped = rows_to_resend(definition, target)
    return CursorPreview(feed, current, target, rows, capped)


def _queued_run(feed: str) -> ExportRun | None:

    return (
        ExportRun.objects.filter(
            feed=feed,
            outcome=ExportRun.Outcome.QUEUED,
            created_at__gte=timezone.now() - ExportRun.QUEUED_EXPIRY,
        )
        .order_by("-created_at")
        .first()
    )


def cursor_change_apply(
    *,
    feed: str,
    target: str | None,
    reason: str,
    changed_by,
    via: str,
    actor: str = "",
    expected_from=ANY,
    address: str | None = None,
) -> CursorChange:
    """Move the stored cursor to ``target`` and record it. ``expected_from`` is the cursor the
    operator saw in the preview: when the store holds another one now (a run moved it, or the
    form was submitted twice) nothing changes."""
    reason = (reason or "").strip()
    if not reason:
        raise CursorChangeRefused("say why the cursor moves (a reason is required)")
    definition = rewindable_feed(feed)
    try:
        with feed_lock(feed):
            queued = _queued_run(feed)
            if queued is not None:
                raise CursorChangeRefused(
                    f"run #{queued.pk} of {definition.label} is queued; wait until it ends"
                )
            store = cursor_store(definition)
            preview = cursor_preview(feed=feed, target=target)
            if expected_from is not ANY and preview.cursor_from != expected_from:
                raise CursorChangeRefused(
                    f"the stored cursor is {preview.cursor_from or '(the beginning)'} now, not"
                    f" {expected_from or '(the beginning)'} as previewed (submitted twice, or a"
                    " run moved it): nothing changed, preview again"
                )
            if preview.cursor_from == target:
                raise CursorChangeRefused(
                    f"the stored cursor is {target or '(the beginning)'} already: nothing to change"
                )
            with transaction.atomic():
                change = CursorChange.objects.create(
                    feed=feed,
                    changed_by=changed_by,
                    actor=actor or (changed_by.get_username() if changed_by else "unknown"),
                    via=via,
                    cursor_from=preview.cursor_from,
                    cursor_to=target,
                    reason=reason[:2000],
                    rows_to_resend=preview.rows,
                    rows_capped=preview.capped,
                )
                # The site's audit trail too (who, what, when, from which address).
                audit_record(
                    actor=changed_by or change.actor,
                    action="export.cursor_change",
                    target=f"feed:{feed}",
                    details={
                        "from": preview.cursor_from,
                        "to": target,
                        "reason": change.reason,
                        "rowsToResend": preview.rows,
                        "via": via,
                    },
                    address=address,
                )
                # The store last: if writing it fails, the record rolls back with it.
                try:
                    store.save(
                        Checkpoint(cursor=target, rows=0, updated_at=timezone.now(), feed=feed)
                    )
                except CursorStoreError as exc:
                    raise CursorChangeRefused(f"the cursor could not be written: {exc}") from exc
            return change
    except FeedBusy:
        raise CursorChangeRefused(
            f"a run of {definition.label} is running; wait until it ends"
        ) from None
