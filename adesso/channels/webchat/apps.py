from django.apps import AppConfig


class WebchatChannelConfig(AppConfig):
    name = "adesso.channels.webchat"
    label = "webchat_channel"
    verbose_name = "Web chat channel"
