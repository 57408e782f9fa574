from typing import Any

from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "adesso.outbox"
    label = "outbox"
    verbose_name = "Outbox"

    def ready(self) -> None:
        from adesso.conversations.signals import message_written

        message_written.connect(_queue_delivery, dispatch_uid="outbox.message_written")


def _queue_delivery(sender: Any, message: Any, **kwargs: Any) -> None:
    from adesso.outbox.actions import do_enqueue_delivery

    do_enqueue_delivery(message)
