from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "adesso.routing"
    label = "routing"
    verbose_name = "Routing"
