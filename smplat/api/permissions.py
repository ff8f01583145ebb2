"""Who may call an API route: machine clients holding a key with the route's scope, or
staff by their browser session holding the same model permissions as the operator pages
that show that data.

Every view names, per HTTP method, the permissions a staff session needs and the key scopes
that open it (any one of them is enough)::

    class FollowUpListApi(APIView):
        staff_permissions = {
            "GET": ("reports.view_guardrailfollowup",),
            "POST": ("reports.add_guardrailfollowup",),
        }
        api_scopes = {"GET": ("read",), "POST": ("write",)}

A method a view does not list is refused to staff sessions and to named keys (secure by
default; ``CHECKOUT_API_KEY`` holds every scope and still passes); HEAD and OPTIONS need what
GET needs.
"""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from smplat.api.authentication import ApiClient


def _method(request) -> str:
    return "GET" if request.method in {"HEAD", "OPTIONS"} else request.method


def required_scopes(view, request) -> tuple[str, ...] | None:
    """The scopes that open this view's method to a key (any one suffices), None if unlisted."""
    return getattr(view, "api_scopes", {}).get(_method(request))


class ScopeMissing(exceptions.PermissionDenied):
    default_code = "scope_missing"


def key_may(request, view) -> bool:
    """A key holding one of the scopes the view lists for the method; 403 naming it if not."""
    client = request.auth
    if not isinstance(client, ApiClient):
        return False
    needed = required_scopes(view, request)
    if client.is_environment_key:
        return True
    if needed is None:
        raise ScopeMissing("This route is not open to API keys.")
    if client.scopes.isdisjoint(needed):
        raise ScopeMissing(
            f"This API key lacks the {' or '.join(repr(s) for s in needed)} scope"
            f" this route needs (it holds {', '.join(sorted(client.scopes))})."
        )
    return True


def staff_may(request, view) -> bool:
    """An active staff user holding every permission the view lists for the method."""
    user = request.user
    if not (user and getattr(user, "pk", None) and user.is_active and user.is_staff):
        return False
    required = getattr(view, "staff_permissions", {}).get(_method(request))
    return required is not None and user.has_perms(required)


class IsApiClientOrStaff(BasePermission):
    """Machine clients holding a key with the scope, or staff sessions with the permissions."""

    message = "Only API key holders and staff with the permission to this data may use it."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiClient):
            return key_may(request, view)
        return staff_may(request, view)


class IsStaff(BasePermission):
    """Staff sessions with the view's permissions only: the routes behind the admin pages."""

    message = "Only staff with the permission to this data may use this route."

    def has_permission(self, request, view) -> bool:
        return staff_may(request, view)
