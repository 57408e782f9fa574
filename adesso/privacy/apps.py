from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "adesso.privacy"
    label = "privacy"
    verbose_name = "Privacy"
