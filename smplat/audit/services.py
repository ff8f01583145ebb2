"""Recording the audit trail: ``audit_record`` for any caller, ``audit_request`` for views."""

from __future__ import annotations

import ipaddress
from typing import Any

from rest_framework.throttling import BaseThrottle

from smplat.audit.models import AuditEntry


def actor_name(actor) -> str:
    """How an actor reads in the trail: a username, ``key:<name>``, or the text given."""
    if actor is None:
        return "unknown"
    if isinstance(actor, str):
        return actor
    audit_name = getattr(actor, "audit_name", None)
    if audit_name:
        return audit_name
    return actor.get_username() if hasattr(actor, "get_username") else str(actor)


def request_address(request) -> str | None:
    """The client's address, as the rate limits see it (TRUSTED_PROXY_COUNT proxies trusted)."""
    raw = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address((raw or "").strip()))
    except ValueError:
        return None


def audit_record(
    *, actor, action: str, target: str, details: dict[str, Any] | None, address: str | None
) -> AuditEntry:
    """Append one entry: ``actor`` a user, an API client, or a text such as "manage.py"."""
    user = (
        actor if getattr(actor, "_meta", None) is not None and getattr(actor, "pk", None) else None
    )
    return AuditEntry.objects.create(
        actor=actor_name(actor),
        actor_user=user,
        action=action,
        target=target,
        details=details or {},
        address=address,
    )


def audit_request(request, *, action: str, target: str, details: dict[str, Any] | None = None):
    """``audit_record`` for a view: the actor is the request's user or key, and its address."""
    return audit_record(
        actor=request.user,
        action=action,
        target=target,
        details=details,
        address=request_address(request),
    )
