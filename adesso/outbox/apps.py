from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "adesso.outbox"
    label = "outbox"
    verbose_name = "Outbox"
