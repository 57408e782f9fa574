from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "adesso.accounts"
    label = "accounts"
    verbose_name = "Organisations and agents"

    def ready(self) -> None:
        from adesso import checks  # noqa: F401  (registers the system checks)
