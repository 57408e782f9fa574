from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "adesso.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from adesso import checks  # noqa: F401  (registers the system checks)
