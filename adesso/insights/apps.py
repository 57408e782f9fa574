from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "adesso.insights"
    label = "insights"
    verbose_name = "Insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from adesso.accounts.models import Organization
        from adesso.insights.processes import seed_on_create

        # A new organisation starts with the default business processes.
        post_save.connect(seed_on_create, sender=Organization, dispatch_uid="insights-seed-processes")
