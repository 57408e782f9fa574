from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "adesso.api"
    label = "api"
    verbose_name = "REST API"
