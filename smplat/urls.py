"""The site's URLs: the admin and its operator pages, the APIs, probes, badges, metrics and the
schema."""

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from smplat.api.exceptions import error_body
from smplat.api.schema_view import SchemaView
from smplat.metrics import metrics
from smplat.probes import readyz


def healthz(request):
    """Liveness and database reachability for load balancers (no secrets, no data)."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means "not ready"
        return JsonResponse(
            error_body("database_unavailable", "The database is unreachable."), status=503
        )
    return JsonResponse({"status": "ok"})


urlpatterns = [
    # The site has no public pages: a browser at / goes to the admin, which lists the
    # operator pages and the API docs (an API client never asks for /).
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    # Operator pages inside the admin come before the admin's own catch-all routes.
    path("admin/", include("reports.pages.urls")),
    path("admin/", admin.site.urls),
    path("dashboard/", include("telemetry.dashboard_urls")),
    path("", include("telemetry.urls")),
    path("", include("reports.urls")),
    path("", include("reports.pages.api_urls")),
    path("", include("reports.pages.badge_urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    # The schema alone negotiates: YAML by default, JSON for Accept: application/json or
    # ?format=json.
    path(
        "api/schema/",
        SchemaView.as_view(),
        name="api-schema",
    ),
    path(
        "api/docs/",
        staff_member_required(SpectacularSwaggerView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]

handler400 = "smplat.api.exceptions.handler400"
handler403 = "smplat.api.exceptions.handler403"
handler404 = "smplat.api.exceptions.handler404"
handler500 = "smplat.api.exceptions.handler500"
