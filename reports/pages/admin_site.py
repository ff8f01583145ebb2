"""The admin site, with the operator pages listed beside the models (index and sidebar)."""

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpResponseBadRequest
from django.template.response import SimpleTemplateResponse
from django.urls import NoReverseMatch, reverse

# (URL name, label, permissions a user needs to see the link)
OPERATOR_PAGES = [
    ("reports", "Export health & follow-ups", ("exports.view_exportrun",)),
    ("onboarding", "Onboarding & experiments", ("telemetry.view_onboardingjourney",)),
    ("dashboard:telemetry", "Chat telemetry & GDPR", ("telemetry.view_chattelemetryrollup",)),
    ("api-docs", "API docs", ()),
]

# Apps of libraries, named in the site's wording on the index and sidebar:
# app label -> (app name, {model object name: plural name}).
LIBRARY_APP_NAMES = {
    "django_tasks_database": ("Background tasks", {"DBTaskResult": "Task results"}),
}


class OperationsAdminSite(admin.AdminSite):
    site_header = "smplat reports"
    site_title = "smplat reports"
    index_title = "Operations"
    # The site has no public pages: no "View site" link to a 404.
    site_url = None

    def admin_view(self, view, cacheable=False):
        """Every admin page (model lists and forms, the operator pages) refuses a NUL byte in
        its path or query with a 400: PostgreSQL cannot compare text with one, so a list
        filter or search given ``%00`` would otherwise fail in the database with a 500. A
        query number that overflows (Django's date lookups build ``datetime(year, ...)``)
        is a 400 too."""

        @wraps(view)
        def refuse_nul(request, *args, **kwargs):
            if "\x00" in request.path or any(
                "\x00" in key or any("\x00" in value for value in values)
                for key, values in request.GET.lists()
            ):
                return HttpResponseBadRequest(
                    "The address may not contain the NUL character (%00).",
                    content_type="text/plain; charset=utf-8",
                )
            try:
                response = view(request, *args, **kwargs)
                if isinstance(response, SimpleTemplateResponse) and request.GET:
                    # A changelist runs its query while rendering: render here to answer a
                    # number that overflows it (a date_hierarchy year of 23 digits).
                    response.render()
            except OverflowError:
                if not request.GET:
                    raise
                return HttpResponseBadRequest(
                    "A number in the address is out of range.",
                    content_type="text/plain; charset=utf-8",
                )
            return response

        # Checked after the login check that super() adds: anonymous users still go to login.
        return super().admin_view(refuse_nul, cacheable)

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        for app in app_list:  # the task queue's library titles its names; ours are sentences
            if app["app_label"] in LIBRARY_APP_NAMES:
                app["name"], model_names = LIBRARY_APP_NAMES[app["app_label"]]
                for model in app["models"]:
                    model["name"] = model_names.get(model["object_name"], model["name"])
        if app_label is not None:
            return app_list
        pages = []
        for name, label, permissions in OPERATOR_PAGES:
            if not request.user.has_perms(permissions):
                continue
            try:
                url = reverse(name)
            except NoReverseMatch:  # a page whose app is not installed
                continue
            pages.append(
                {
                    "name": label,
                    "object_name": name.replace("-", "_").replace(":", "_"),
                    "admin_url": url,
                    "view_only": True,
                    "perms": {"view": True},
                }
            )
        if pages:
            app_list.insert(
                0,
                {
                    "name": "Operator pages",
                    "app_label": "operator_pages",
                    "app_url": pages[0]["admin_url"],
                    "has_module_perms": True,
                    "models": pages,
                },
            )
        return app_list


class OperationsAdminConfig(AdminConfig):
    """Django's admin app, with the site that links the operator pages."""

    default_site = "reports.pages.admin_site.OperationsAdminSite"
