from rest_framework.permissions import BasePermission


class IsApiClientOrStaff(BasePermission):
    """Machine clients holding the API key, or logged-in active staff (their browser session)."""

    message = "Only API key holders and staff may use this route."

    def has_permission(self, request, view) -> bool:
        if request.auth == "api-key":
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class IsStaff(BasePermission):
    """Logged-in active staff only: the operator routes behind the admin pages."""

    message = "Only staff may use this route."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and getattr(user, "pk", None) and user.is_active and user.is_staff)
