from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "adesso.demo"
    label = "demo"
    verbose_name = "Demo data"
