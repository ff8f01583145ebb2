"""Who may call an API route: machine clients with the API key, or staff by their browser
session holding the same model permissions as the operator pages that show that data.

Every view names, per HTTP method, the permissions a staff session needs::

    class FollowUpListApi(APIView):
        staff_permissions = {
            "GET": ("reports.view_guardrailfollowup",),
            "POST": ("reports.add_guardrailfollowup",),
        }

A method a view does not list is refused to staff sessions (secure by default); HEAD and
OPTIONS need what GET needs.
"""

from rest_framework.permissions import BasePermission


def staff_may(request, view) -> bool:
    """An active staff user holding every permission the view lists for the method."""
    user = request.user
    if not (user and getattr(user, "pk", None) and user.is_active and user.is_staff):
        return False
    method = "GET" if request.method in {"HEAD", "OPTIONS"} else request.method
    required = getattr(view, "staff_permissions", {}).get(method)
    return required is not None and user.has_perms(required)


class IsApiClientOrStaff(BasePermission):
    """Machine clients holding the API key, or staff sessions with the view's permissions."""

    message = "Only API key holders and staff with the permission to this data may use it."

    def has_permission(self, request, view) -> bool:
        return request.auth == "api-key" or staff_may(request, view)


class IsStaff(BasePermission):
    """Staff sessions with the view's permissions only: the routes behind the admin pages."""

    message = "Only staff with the permission to this data may use this route."

    def has_permission(self, request, view) -> bool:
        return staff_may(request, view)
