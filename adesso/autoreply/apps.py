from django.apps import AppConfig


class AutoreplyConfig(AppConfig):
    name = "adesso.autoreply"
    label = "autoreply"
    verbose_name = "Automatic replies"
