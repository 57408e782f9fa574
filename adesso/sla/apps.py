from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "adesso.sla"
    label = "sla"
    verbose_name = "Service levels"
