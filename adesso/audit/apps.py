from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "adesso.audit"
    label = "audit"
    verbose_name = "Audit log"
