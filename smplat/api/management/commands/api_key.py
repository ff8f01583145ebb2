"""``api_key create <name> --scope ingest,read,export [--expires DATE]``, ``api_key list``,
``api_key revoke <name-or-prefix>``: the admin's API key page, from a shell."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from smplat.api.models import ApiKey, Scope
from smplat.api.services import api_key_create, api_key_revoke


def _expiry(raw: str) -> datetime:
    """A date (the key expires at its start, UTC) or an ISO-8601 date and time."""
    try:
        moment = parse_datetime(raw)
        day = None if moment else parse_date(raw)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime.combine(day, time.min)
    if moment is None:
        raise CommandError(f"--expires {raw!r}: use a date (2026-12-31) or an ISO date-time")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def _actor() -> str:
    try:
        return f"manage.py ({getpass.getuser()})"
    except (KeyError, OSError):
        return "manage.py"


class Command(BaseCommand):
    help = "Create, list and revoke the API keys of machine clients."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = commands.add_parser("create", help="create a key and print it (once)")
        create.add_argument("name")
        create.add_argument(
            "--scope",
            required=True,
            help=f"comma-separated scopes: {','.join(Scope.values)}",
        )
        create.add_argument("--expires", help="expiry date (UTC) or ISO-8601 date-time")
        create.add_argument(
            "--ingest-rate", type=int, help="requests a minute on the ingest routes (this key)"
        )
        commands.add_parser("list", help="list keys (prefixes, never keys)")
        revoke = commands.add_parser("revoke", help="revoke a key; effective on the next request")
        revoke.add_argument("name_or_prefix")

    def handle(self, *args, **options) -> None:
        getattr(self, f"handle_{options['action']}")(options)

    def handle_create(self, options) -> None:
        scopes = [s.strip() for s in options["scope"].split(",") if s.strip()]
        expires = _expiry(options["expires"]) if options["expires"] else None
        try:
            created = api_key_create(
                name=options["name"],
                scopes=scopes,
                expires_at=expires,
                ingest_rate_per_minute=options["ingest_rate"],
                actor=_actor(),
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        key = created.key
        self.stderr.write(
            self.style.SUCCESS(
                f"Created API key {key.name} (prefix smplat_{key.prefix}, scopes"
                f" {','.join(key.scopes)}"
                + (f", expires {key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else "")
                + "). It is shown this once; store it now:"
            )
        )
        # The key alone on stdout, so that `... api_key create x --scope read > file` works.
        self.stdout.write(created.plaintext)

    def handle_list(self, options) -> None:
        keys = list(ApiKey.objects.order_by("name", "-created_at"))
        if not keys:
            self.stdout.write(
                "No API keys (CHECKOUT_API_KEY, when set, is valid with every scope)."
            )
            return
        header = (
            f"{'name':<28} {'prefix':<16} {'scopes':<24} {'state':<8} {'expires':<17} last used"
        )
        self.stdout.write(header)
        for key in keys:
            expires = f"{key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else "never"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(
                f"{key.name:<28} smplat_{key.prefix:<9} {','.join(key.scopes):<24}"
                f" {key.state:<8} {expires:<17} {used}"
            )

    def handle_revoke(self, options) -> None:
        try:
            key = api_key_revoke(name_or_prefix=options["name_or_prefix"], actor=_actor())
        except ApiKey.DoesNotExist as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Revoked API key {key.name} (smplat_{key.prefix})."))
