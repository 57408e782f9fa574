from django.apps import AppConfig


class ApiChannelConfig(AppConfig):
    name = "adesso.channels.api"
    label = "api_channel"
    verbose_name = "API channel"
