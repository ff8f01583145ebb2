"""Staff pages: the chat telemetry dashboard and the GDPR audit view (inside the admin's look)."""

from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from telemetry.dashboard import gdpr_audit_overview, telemetry_dashboard

TELEMETRY_PERMISSION = "telemetry.view_chattelemetryrollup"
GDPR_PERMISSION = "telemetry.view_gdprauditlog"


def staff_permission_required(permission: str) -> Callable:
    """Anonymous users go to the admin login; logged-in users need staff status AND
    ``permission`` (a staff member without it, or a customer account, gets 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if not (user.is_active and user.is_staff and user.has_perm(permission)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _page(request: HttpRequest, template: str, title: str, **context) -> HttpResponse:
    # each_context gives the admin's header, sidebar, theme toggle and site names.
    return render(
        request, template, {**admin.site.each_context(request), "title": title, **context}
    )


@require_safe
@never_cache
@staff_permission_required(TELEMETRY_PERMISSION)
def telemetry_dashboard_view(request: HttpRequest) -> HttpResponse:
    dashboard = telemetry_dashboard(window_key=request.GET.get("window"))
    return _page(
        request,
        "telemetry/dashboard.html",
        "Chat telemetry",
        dashboard=dashboard,
        can_view_gdpr=request.user.has_perm(GDPR_PERMISSION),
    )


@require_safe
@never_cache
@staff_permission_required(GDPR_PERMISSION)
def gdpr_audit_view(request: HttpRequest) -> HttpResponse:
    return _page(
        request, "telemetry/gdpr.html", "GDPR audit log health", gdpr=gdpr_audit_overview()
    )
