"""A batch of the inbound pipeline applied optimistically keeps new senders' rows (contact,
identity, conversation, message) and returning senders' conversation updates for one
statement per table at its end (adesso.lib.batch.deferring). What the customer and the
agents see must be what one message at a time would give: one contact and one
conversation per sender, the last message's summary, assignments and their
notifications, and an honest queue position when a customer asks for it.

Personas: Giulia (agent, online), customers Anna, Bruno, Carla, Dora, Elena.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adesso.accounts.models import Presence, Role
from adesso.channels import registry
from adesso.channels.base import InboundAttachment, InboundMessage, InboundSender
from adesso.channels.models import Channel
from adesso.channels.pipeline import accept, do_process_events
from adesso.contacts.models import Contact, ContactIdentity
from adesso.conversations.models import Conversation, ConversationEvent, EventKind, Message
from adesso.notifications.models import Notification
from adesso.routing.actions import do_set_presence, do_update_routing
from tests.builders import make_agent, make_org
from tests.test_pipeline import ScriptedKind

pytestmark = pytest.mark.django_db


class FileKind(ScriptedKind):
    """The scripted provider, whose events may carry a file (written beside the message)."""

    kind = "scripted-files"

    def parse(self, channel: Channel, body: bytes) -> list[Any]:
        data = json.loads(body)
        attachments = [InboundAttachment("ricevuta.txt", "text/plain", b"ricevuta")] if data.get("file") else []
        return [
            InboundMessage(
                external_id=data["id"], sender=InboundSender(data["sender"], name=data["sender"].title()),
                text=data["text"], attachments=attachments,
            )
        ]


@pytest.fixture(autouse=True)
def kind(monkeypatch):
    monkeypatch.setitem(registry.KINDS, "scripted-files", "tests.test_pipeline_batch.FileKind")
    registry.get_kind.cache_clear()
    yield FileKind
    registry.get_kind.cache_clear()


@pytest.fixture(autouse=True)
def optimistic(caplog):
    """Each batch here must hold as it was applied at first, not by the careful second
    application that a failing batch gets (which would hide a broken deferral)."""
    caplog.set_level("INFO", logger="adesso.channels.pipeline")
    yield
    assert not [r for r in caplog.get_records("call") if "applying them one by one" in r.getMessage()]


@pytest.fixture
def shop():
    org = make_org(ack=True, auto_assign=True)
    return Channel.objects.create(organization=org, kind="scripted-files", name="Negozio")


def write(channel: Channel, event_id: str, sender: str, text: str, pos: int = 1, **extra: Any) -> None:
    body = json.dumps({"id": event_id, "sender": sender, "pos": pos, "text": text, **extra}).encode()
    accept(channel, registry.get_kind("scripted-files").identify(channel, body), body)


def conversation_of(sender: str) -> Conversation:
    identity = ContactIdentity.objects.get(kind="scripted", value=sender)
    return Conversation.objects.select_related("assignee").get(contact_id=identity.contact_id)


def test_new_senders_with_an_agent_online_are_assigned_notified_and_acknowledged_once(shop):
    giulia = make_agent(shop.organization, "Giulia")
    supervisor = make_agent(shop.organization, "Paola", role=Role.SUPERVISOR)
    do_update_routing(supervisor, giulia, capacity=2)
    do_set_presence(giulia, Presence.ONLINE)
    write(shop, "a1", "anna", "Buongiorno, il mio ordine non è arrivato", pos=1)
    write(shop, "a2", "anna", "È l'ordine 4821", pos=2)
    write(shop, "b1", "bruno", "Avete la torta senza glutine?")
    write(shop, "c1", "carla", "Posso cambiare l'indirizzo di consegna?")

    assert do_process_events() == 4

    assert Contact.objects.filter(organization=shop.organization).count() == 3
    anna = conversation_of("anna")
    assert list(anna.messages.filter(auto=False).order_by("pk").values_list("text", flat=True)) == [
        "Buongiorno, il mio ordine non è arrivato",
        "È l'ordine 4821",
    ]
    assert anna.last_message_preview == "È l'ordine 4821"
    # Giulia has room for two: Anna and Bruno are hers, Carla waits in the queue.
    assert anna.assignee == giulia
    assert conversation_of("bruno").assignee == giulia
    carla = conversation_of("carla")
    assert carla.assignee is None and carla.queued_at is not None
    told = Notification.objects.filter(user=giulia, kind=EventKind.ASSIGNED)
    assert sorted(told.values_list("conversation_id", flat=True)) == sorted([anna.pk, conversation_of("bruno").pk])
    for sender in ("anna", "bruno", "carla"):
        assert conversation_of(sender).messages.filter(auto=True).count() == 1, sender
        assert conversation_of(sender).promise_at is not None


def test_a_customer_asking_for_their_place_in_the_queue_in_a_batch_is_told_the_true_one(shop):
    giulia = make_agent(shop.organization, "Giulia")
    supervisor = make_agent(shop.organization, "Paola", role=Role.SUPERVISOR)
    do_update_routing(supervisor, giulia, capacity=1)
    do_set_presence(giulia, Presence.ONLINE)
    write(shop, "a1", "anna", "Buongiorno, una domanda sul reso")
    write(shop, "b1", "bruno", "Il pacco è arrivato rotto")
    write(shop, "c1", "carla", "Salve, il rimborso non è arrivato")
    write(shop, "d1", "dora", "Buonasera, quante persone ci sono prima di me in coda?")

    assert do_process_events() == 4

    # Anna is Giulia's; Bruno, Carla and Dora queue in that order: Dora is third.
    acknowledged = ConversationEvent.objects.get(conversation=conversation_of("dora"), kind=EventKind.AUTO_SENT)
    assert acknowledged.data["position"] == 3
    assert "3" in conversation_of("dora").messages.get(auto=True).text


def test_a_returning_senders_messages_in_one_batch_leave_their_conversation_as_the_last_one_did(shop):
    write(shop, "e1", "elena", "Buongiorno, ho un problema con la fattura")
    do_process_events()
    first = conversation_of("elena")
    write(shop, "e2", "elena", "Manca la partita IVA", pos=2)
    write(shop, "e3", "elena", "Grazie mille", pos=3)
    write(shop, "b1", "bruno", "Avete la torta senza glutine?")

    with CaptureQueriesContext(connection) as ctx:
        assert do_process_events() == 3

    again = conversation_of("elena")
    assert again.pk == first.pk
    assert again.messages.filter(auto=False).count() == 3
    assert again.last_message_preview == "Grazie mille"
    last = again.messages.filter(auto=False).latest("pk")
    assert again.last_customer_message_at == last.created_at
    # One turn, acknowledged once, not again for the messages that followed.
    assert again.messages.filter(auto=True).count() == 1
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "conversations_conversation"')]
    assert len(updates) <= 1, updates  # Elena's two messages: one UPDATE at the batch's end


def test_a_message_with_a_file_after_a_new_senders_first_joins_the_same_conversation(shop):
    write(shop, "d1", "dora", "Buongiorno, vi mando la ricevuta", pos=1)
    write(shop, "d2", "dora", "Eccola", pos=2, file=True)
    write(shop, "d3", "dora", "L'avete ricevuta?", pos=3)

    assert do_process_events() == 3

    assert Contact.objects.filter(organization=shop.organization).count() == 1
    conversation = conversation_of("dora")
    assert list(conversation.messages.filter(auto=False).order_by("pk").values_list("text", flat=True)) == [
        "Buongiorno, vi mando la ricevuta",
        "Eccola",
        "L'avete ricevuta?",
    ]
    with_file = Message.objects.get(text="Eccola")
    assert [a.filename for a in with_file.attachments.all()] == ["ricevuta.txt"]
    assert conversation.last_message_preview == "L'avete ricevuta?"
