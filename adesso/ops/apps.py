from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "adesso.ops"
    label = "ops"
    verbose_name = "Operations"
