"""``manage.py export_cursor FEED --show | --set CURSOR | --reset --reason TEXT`` (SPEC §8):
read or move a feed's stored cursor from a cron host or CI, with the feed card's checks,
lock and audit record (``exports/cursor_repair.py``)."""

from __future__ import annotations

import getpass
import socket

from django.core.management.base import BaseCommand, CommandError

from exports import cursor_repair
from exports.models import CursorChange


class Command(BaseCommand):
    help = "Show, set or reset a feed's stored cursor (refused while a run of the feed is active)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("feed")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--show", action="store_true", help="print the stored cursor")
        action.add_argument(
            "--set",
            metavar="CURSOR",
            help="an exact cursor (<timestamp>~<id>, or a bare timestamp: rows after it)",
        )
        action.add_argument("--reset", action="store_true", help="from the beginning")
        parser.add_argument("--reason", default="", help="why (required with --set/--reset)")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would change, change nothing"
        )

    def handle(self, *args, feed: str, show: bool, set: str | None, reset: bool, **options):
        try:
            definition = cursor_repair.rewindable_feed(feed)
            if show:
                preview = cursor_repair.cursor_preview(feed=feed, target=None)
                self.stdout.write(
                    preview.cursor_from or "(none: the next run starts at the beginning)"
                )
                return
            target = None if reset else cursor_repair.parse_target(definition, set)
            preview = cursor_repair.cursor_preview(feed=feed, target=target)
            summary = (
                f"{feed}: {preview.cursor_from or '(beginning)'} -> {target or '(beginning)'};"
                f" the next run re-sends {preview.rows_text} rows"
            )
            if options["dry_run"]:
                self.stdout.write(f"{summary} (dry run: nothing changed)")
                return
            cursor_repair.cursor_change_apply(
                feed=feed,
                target=target,
                reason=options["reason"],
                changed_by=None,
                actor=f"{getpass.getuser()}@{socket.gethostname()}",
                via=CursorChange.Via.COMMAND,
            )
        except cursor_repair.CursorChangeRefused as exc:
            raise CommandError(f"{exc}; nothing changed") from exc
        self.stdout.write(self.style.SUCCESS(summary))
