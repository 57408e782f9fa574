"""The customer's wait starts when Adesso accepted their message, not when a worker got
to it: a message processed ten minutes after it was stored keeps its acceptance time
(created_at, the conversation's waiting_since and so the SLA's due time)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from adesso.channels.pipeline import do_process_events
from adesso.conversations.models import Conversation, Message
from tests.builders import inbound_payload, make_api_channel, make_org, post_inbound

pytestmark = pytest.mark.django_db


def test_a_message_processed_late_keeps_the_time_it_was_accepted(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # no worker running
    shop = make_api_channel(make_org("Enoteca Bassi"))
    accepted_at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    with time_machine.travel(accepted_at, tick=False):
        r = post_inbound(Client(), shop, inbound_payload(text="Il vino ordinato non è arrivato"))
    assert r.status_code == 202
    assert not Message.objects.exists()  # stored, not processed: the worker was down
    do_process_events()  # ten minutes later
    message = Message.objects.get(code=r.json()["message"])
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert message.created_at == accepted_at
    assert conversation.waiting_since == accepted_at
    assert conversation.created_at == accepted_at
    # The SLA's due time counts from the acceptance: 60 minutes from then, not from now.
    assert conversation.first_response_due_at == accepted_at + dt.timedelta(minutes=60)
