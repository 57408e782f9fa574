"""Background work for conversations, run by the task worker.

Replies are sent by the outbox (adesso.outbox.tasks.deliver).
"""

from django.db import transaction
from django_tasks import task

from adesso.conversations.models import DeliveryStatus, Message
from adesso.conversations.signals import message_written


@task()
def deliver_message(message_id: int) -> str:
    """Jobs queued before the outbox existed: hand the reply to the outbox.

    Nothing enqueues this any more; it stays so that such jobs, still waiting in a
    database queue after an upgrade, do not leave their replies pending for ever.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.delivery_status != DeliveryStatus.PENDING or message.deliveries.exists():
            return "skipped"
        message_written.send(sender=Message, message=message)
    return "queued"
