from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "adesso.realtime"
    label = "realtime"
    verbose_name = "Live updates"
