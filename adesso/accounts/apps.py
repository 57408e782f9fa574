from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "adesso.accounts"
    label = "accounts"
    verbose_name = "Organisations and agents"
