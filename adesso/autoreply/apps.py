import datetime as dt
from typing import Any

from django.apps import AppConfig


class AutoreplyConfig(AppConfig):
    name = "adesso.autoreply"
    label = "autoreply"
    verbose_name = "Automatic replies"

    def ready(self) -> None:
        from adesso.conversations.signals import snoozed

        snoozed.connect(_snoozed, dispatch_uid="autoreply.snoozed")


def _snoozed(sender: Any, conversation: Any, until: dt.datetime, now: dt.datetime, **kwargs: Any) -> None:
    from adesso.autoreply.actions import update_promise_for_snooze

    update_promise_for_snooze(conversation, until, now)
