"""The export engine's app: fills the feed registry from every app's feeds.py and checks each
feed's settings at start-up."""

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from exports import checks, registry  # noqa: F401 (checks registers the system checks)
        from exports.config import forget_configs

        registry.autodiscover()
        registry.check_configuration()
        setting_changed.connect(forget_configs, dispatch_uid="exports-forget-configs")
