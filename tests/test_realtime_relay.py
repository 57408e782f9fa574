"""The live process's relay (adesso/realtime/relay.py) at a burst's rate: everything one
look at the event table finds reaches an open page, in order, even when it is more than
the in-memory channel layer holds for one socket (100 messages; session 6's bench lost
a third of the `message_received` updates at 300 messages/s)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection

from adesso.channels.models import Channel
from adesso.contacts.models import Contact
from adesso.conversations.models import Conversation, ConversationEvent
from adesso.realtime import relay
from adesso.realtime.publish import org_group
from tests.builders import make_org

pytestmark = pytest.mark.django_db(transaction=True)


def _customer() -> Contact:
    org = make_org()
    Channel.objects.create(organization=org, kind="api", name="App")
    return Contact.objects.create(organization=org, name="Mario Bianchi")


def _burst(contact: Contact, count: int) -> list[str]:
    org, channel = contact.organization, Channel.objects.get(organization=contact.organization)
    conversations = [
        Conversation.objects.create(organization=org, channel=channel, contact=contact) for _ in range(count)
    ]
    ConversationEvent.objects.bulk_create(
        ConversationEvent(organization=org, conversation=c, kind="message_received") for c in conversations
    )
    return [c.code for c in conversations]


def test_a_burst_larger_than_a_sockets_capacity_arrives_whole_and_in_order(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    async def scenario() -> tuple[list[str], list[dict]]:
        layer = get_channel_layer()
        page = await layer.new_channel()
        contact = await sync_to_async(_customer)()
        await layer.group_add(org_group(contact.organization_id), page)
        task = asyncio.get_running_loop().create_task(relay._run())
        await asyncio.sleep(0.2)  # the relay starts after what is already there
        codes = await sync_to_async(_burst)(contact, 250)
        received: list[dict] = []
        while len(received) < len(codes):
            try:
                message = await asyncio.wait_for(layer.receive(page), 3)
            except TimeoutError:
                break  # lost on the way
            received.extend(message["payloads"] if "payloads" in message else [message["payload"]])
            await asyncio.sleep(0.005)  # the page's socket takes its time (a busy live process)
        task.cancel()
        await sync_to_async(lambda: connection.close())()  # the relay's thread's own connection
        return codes, received

    codes, received = asyncio.run(scenario())

    assert [p["conversation"] for p in received] == codes
    assert {p["kind"] for p in received} == {"message_received"}
