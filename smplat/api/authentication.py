"""Key authentication: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

The key is ``CHECKOUT_API_KEY`` (the environment's key, holding every scope, as before named
keys existed) or a named key from the ``ApiKey`` table (smplat/api/models.py) with its
scopes. Both are compared in constant time.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from rest_framework import authentication, exceptions

from smplat.api.models import Scope
from smplat.api.services import api_key_verify

ENVIRONMENT_KEY_NAME = "CHECKOUT_API_KEY"


class ApiClient:
    """The identity of a caller that presented a key: it is not a Django user, it can call
    the API within its scopes and nothing else (no admin, no pages)."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True
    pk = None

    def __init__(
        self,
        *,
        name: str,
        scopes: frozenset[str],
        key_id: int | None = None,
        prefix: str = "",
        ingest_rate_per_minute: int | None = None,
    ) -> None:
        self.name = name
        self.scopes = scopes
        self.key_id = key_id
        self.prefix = prefix
        self.ingest_rate_per_minute = ingest_rate_per_minute

    @property
    def username(self) -> str:
        return f"key:{self.name}"

    # How the audit trail and the logs name the caller.
    audit_name = username

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perms, obj=None) -> bool:
        return False

    @property
    def is_environment_key(self) -> bool:
        return self.key_id is None

    def __str__(self) -> str:
        return "API key client" if self.is_environment_key else f"API key {self.name}"


def _presented_key(request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1").strip()
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            return credentials.strip()
        return None  # Basic or another scheme: not ours to judge
    return request.META.get("HTTP_X_API_KEY")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A request that presents no key falls through to the session authentication; one that
    presents a wrong, revoked or expired key is refused outright (401), never treated as
    anonymous."""

    keyword = "Bearer"

    def authenticate(self, request):
        presented = _presented_key(request)
        if presented is None:
            return None
        if not presented:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        expected = settings.CHECKOUT_API_KEY
        if expected and hmac.compare_digest(presented.encode(), expected.encode()):
            client = ApiClient(name=ENVIRONMENT_KEY_NAME, scopes=frozenset(Scope.values))
            return client, client
        verdict = api_key_verify(presented)
        if verdict.key is None:
            raise exceptions.AuthenticationFailed(verdict.problem)
        key = verdict.key
        client = ApiClient(
            name=key.name,
            scopes=frozenset(key.scopes),
            key_id=key.pk,
            prefix=key.prefix,
            ingest_rate_per_minute=key.ingest_rate_per_minute,
        )
        return client, client

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when no one logged in.
        return self.keyword
