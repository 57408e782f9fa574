"""Background work for conversations, run by the task worker."""

import logging

from django.db import transaction
from django_tasks import task

from adesso.channels.registry import get_kind
from adesso.conversations.models import DeliveryStatus, Message

log = logging.getLogger(__name__)


@task()
def deliver_message(message_id: int) -> str:
    """Send an agent's reply out on the conversation's channel.

    Claims the message with compare-and-set (pending -> sending is the send
    itself), so a task delivered twice never sends twice.
    """
    message = Message.objects.select_related("channel").filter(pk=message_id).first()
    if message is None or message.delivery_status != DeliveryStatus.PENDING:
        return "skipped"
    channel = message.channel
    if not channel.is_enabled:
        Message.objects.filter(pk=message_id).update(delivery_status=DeliveryStatus.FAILED)
        return "channel disabled"
    get_kind(channel.kind).send(channel, message)
    with transaction.atomic():
        Message.objects.filter(pk=message_id, delivery_status=DeliveryStatus.PENDING).update(
            delivery_status=DeliveryStatus.SENT
        )
    return "sent"
