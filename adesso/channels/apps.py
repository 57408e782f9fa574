from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "adesso.channels"
    label = "channels"
    verbose_name = "Channels"
