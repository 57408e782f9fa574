from django.apps import AppConfig


class CoachConfig(AppConfig):
    name = "adesso.coach"
    label = "coach"
    verbose_name = "Reply coach"
