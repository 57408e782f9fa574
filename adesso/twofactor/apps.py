from django.apps import AppConfig


class TwoFactorConfig(AppConfig):
    name = "adesso.twofactor"
    label = "twofactor"
    verbose_name = "Two-factor login"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from adesso.twofactor.middleware import mark_session

        user_logged_in.connect(mark_session, dispatch_uid="adesso_twofactor_mark")
