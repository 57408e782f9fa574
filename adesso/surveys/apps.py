from typing import Any

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "adesso.surveys"
    label = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from adesso.conversations.signals import resolved

        resolved.connect(_resolved, dispatch_uid="surveys.resolved")


def _resolved(sender: Any, conversation: Any, actor: Any, sensitive: bool, **kwargs: Any) -> None:
    from adesso.surveys.actions import send_survey

    send_survey(conversation, actor, sensitive=sensitive)
