from django.apps import AppConfig


class FrontConfig(AppConfig):
    name = "adesso.front"
    label = "front"
    verbose_name = "Agent web UI"
