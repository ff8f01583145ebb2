"""The API plumbing as a Django app (label ``api``), so that API keys are data: models,
migrations, the admin and the ``api_key`` management command live beside the key
authentication that reads them."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "smplat.api"
    label = "api"
    verbose_name = "API access"
    default_auto_field = "django.db.models.BigAutoField"
