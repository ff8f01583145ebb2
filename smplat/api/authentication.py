import hmac

from django.conf import settings
from rest_framework import authentication, exceptions


class ApiClient:
    """The identity of a caller that presented ``CHECKOUT_API_KEY``.

    It is not a Django user: it can call the API and nothing else (no admin, no pages).
    """

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_active = True
    pk = None
    username = "api-key"

    def __str__(self) -> str:
        return "API key client"


def _presented_key(request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1").strip()
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            return credentials.strip()
        return None  # Basic or another scheme: not ours to judge
    return request.META.get("HTTP_X_API_KEY")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` where the key is CHECKOUT_API_KEY.

    A request that presents no key falls through to the session authentication; one that
    presents a wrong key is refused outright rather than silently treated as anonymous.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        presented = _presented_key(request)
        if presented is None:
            return None
        expected = settings.CHECKOUT_API_KEY
        if not expected:
            raise exceptions.AuthenticationFailed("API key authentication is not configured.")
        # Compare in constant time so the key cannot be guessed byte by byte from timings.
        if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        return ApiClient(), "api-key"

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when no one logged in.
        return self.keyword
