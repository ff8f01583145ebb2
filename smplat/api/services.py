"""Writes and the hot-path check of API keys: create (the key shown once), revoke, verify.

``api_key_verify`` is what every keyed request costs: one indexed lookup by prefix and one
constant-time hash comparison, also when the prefix is unknown (against a dummy hash), so
timings tell an unknown key from a wrong one no better than chance. Nothing is cached:
a revocation takes effect on the next request, in every process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from smplat.api.models import ApiKey, Scope

KEY_PREFIX = "smplat_"
PREFIX_LENGTH = 8
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_DUMMY_HASH = hashlib.sha256(b"smplat-no-such-key").hexdigest()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _prefix_of(key: str) -> str | None:
    """The prefix of a well-formed ``smplat_<prefix>_<secret>`` key, else None."""
    if not key.startswith(KEY_PREFIX):
        return None
    rest = key[len(KEY_PREFIX) :]
    prefix, sep, secret = rest.partition("_")
    if not sep or len(prefix) != PREFIX_LENGTH or len(secret) < 20:
        return None
    return prefix


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    plaintext: str  # shown once, never stored


def api_key_create(
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    ingest_rate_per_minute: int | None = None,
    created_by=None,
    actor=None,
    address: str | None = None,
) -> CreatedKey:
    """Create a key; its plaintext is in the result and nowhere else, ever again."""
    from smplat.audit.services import audit_record

    scopes = sorted(set(scopes))
    unknown = set(scopes) - set(Scope.values)
    if unknown or not scopes:
        raise ValidationError(
            {
                "scopes": [
                    f"Choose from {', '.join(Scope.values)} (got {', '.join(scopes) or 'none'})."
                ]
            }
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    for _attempt in range(5):
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey(
            name=name,
            prefix=prefix,
            hashed_key=_hash(plaintext),
            scopes=scopes,
            expires_at=expires_at,
            ingest_rate_per_minute=ingest_rate_per_minute,
            created_by=created_by,
        )
        key.full_clean(exclude=["prefix", "hashed_key"], validate_constraints=False)
        if ApiKey.objects.filter(name=name, revoked_at__isnull=True).exists():
            raise ValidationError({"name": [f"An active key is already named {name!r}."]})
        try:
            with transaction.atomic():
                key.save(force_insert=True)
                audit_record(
                    actor=actor if actor is not None else created_by,
                    action="api_key.create",
                    target=f"api_key:{name}",
                    details={"prefix": prefix, "scopes": scopes, "expiresAt": _iso(expires_at)},
                    address=address,
                )
        except IntegrityError as exc:
            if ApiKey.objects.filter(name=name, revoked_at__isnull=True).exists():
                raise ValidationError(
                    {"name": [f"An active key is already named {name!r}."]}
                ) from exc
            continue  # a prefix collision (one in four billion): draw another
        return CreatedKey(key=key, plaintext=plaintext)
    raise RuntimeError("could not draw an unused key prefix")


def api_key_revoke(*, name_or_prefix: str, actor=None, address: str | None = None) -> ApiKey:
    """Revoke the one unrevoked key with this name or prefix; effective on the next request."""
    from smplat.audit.services import audit_record

    matches = list(ApiKey.objects.matching(name_or_prefix)[:2])
    if not matches:
        raise ApiKey.DoesNotExist(
            f"No active or expired key is named {name_or_prefix!r} or has that prefix."
        )
    if len(matches) > 1:
        raise ValidationError(f"{name_or_prefix!r} matches several keys: use the prefix.")
    [key] = matches
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.revoked_by = _actor_name(actor)
        key.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor,
            action="api_key.revoke",
            target=f"api_key:{key.name}",
            details={"prefix": key.prefix},
            address=address,
        )
    return key


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _actor_name(actor) -> str:
    from smplat.audit.services import actor_name

    return actor_name(actor)


@dataclass(frozen=True)
class Verdict:
    key: ApiKey | None
    problem: str | None  # None when the key authenticates


def api_key_verify(presented: str) -> Verdict:
    """Check a presented key against the stored hashes (see the module docstring)."""
    prefix = _prefix_of(presented)
    key = (
        ApiKey.objects.filter(prefix=prefix)
        .only(
            "id",
            "name",
            "prefix",
            "hashed_key",
            "scopes",
            "ingest_rate_per_minute",
            "expires_at",
            "revoked_at",
            "last_used_at",
        )
        .first()
        if prefix
        else None
    )
    expected = key.hashed_key if key else _DUMMY_HASH
    matches = hmac.compare_digest(_hash(presented), expected)
    if key is None or not matches:
        return Verdict(key=None, problem="Invalid API key.")
    now = timezone.now()
    if key.revoked_at is not None:
        return Verdict(key=None, problem="This API key has been revoked.")
    if key.expires_at is not None and key.expires_at <= now:
        return Verdict(key=None, problem="This API key has expired.")
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so that concurrent workers write it once a minute between them.
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return Verdict(key=key, problem=None)
