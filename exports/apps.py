from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from exports import registry
        from exports.config import forget_configs

        registry.autodiscover()
        registry.check_configuration()
        setting_changed.connect(forget_configs, dispatch_uid="exports-forget-configs")
