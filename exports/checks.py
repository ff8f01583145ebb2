"""System checks of the export settings that Django's own checks cannot know: a bad
``EXPORT_PROXY_ALLOWED_HOSTS`` entry stops ``check`` (and so the deploy) instead of
surfacing as a failed download later."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def check_allowed_origins(app_configs, **kwargs):
    from exports.safe_http import allowed_origin  # on use: it imports requests

    errors = []
    for entry in settings.EXPORT_PROXY_ALLOWED_HOSTS:
        try:
            allowed_origin(entry)
        except ValueError as exc:
            errors.append(
                checks.Error(
                    f"EXPORT_PROXY_ALLOWED_HOSTS: {exc}",
                    hint="List origins: host (http, port 80), host:port or https://host:port.",
                    id="exports.E001",
                )
            )
    return errors
