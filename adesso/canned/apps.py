from django.apps import AppConfig


class CannedConfig(AppConfig):
    name = "adesso.canned"
    label = "canned"
    verbose_name = "Canned replies"
