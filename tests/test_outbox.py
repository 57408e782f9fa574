"""The outbox, whatever the channel: claims, backoff, unknown results, the timer.

A `scripted` channel kind stands in for a provider (like Django's in-memory mail
backend): each send takes the next outcome from a script. The HTTP side of a real
kind is tested in test_api_channel_webhook.py.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any, ClassVar

import pytest
from django.core.management import call_command
from django.utils import timezone
from pydantic import BaseModel

from adesso.channels import registry
from adesso.channels.base import (
    ChannelKind,
    PermanentChannelError,
    TemporaryDeliveryError,
    UnknownDeliveryResult,
)
from adesso.channels.models import Channel
from adesso.contacts.models import Contact
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent, DeliveryStatus, Message
from adesso.conversations.tasks import deliver_message
from adesso.outbox.actions import SEND_LEASE, do_enqueue_delivery, do_retry_due_deliveries
from adesso.outbox.backoff import MAX_ATTEMPTS
from adesso.outbox.models import Delivery
from adesso.outbox.tasks import deliver
from tests.builders import make_agent, make_org

pytestmark = pytest.mark.django_db


class ScriptedKind(ChannelKind):
    kind = "scripted"
    label = "Scripted"
    identity_kind = "scripted"
    config_schema = BaseModel
    script: ClassVar[list[Any]] = []
    sent: ClassVar[list[str]] = []

    def send(self, channel, message):
        outcome = self.script.pop(0) if self.script else "provider-1"
        self.sent.append(message.code)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture(autouse=True)
def scripted(monkeypatch):
    monkeypatch.setitem(registry.KINDS, "scripted", "tests.test_outbox.ScriptedKind")
    monkeypatch.setattr(ScriptedKind, "script", [])
    monkeypatch.setattr(ScriptedKind, "sent", [])
    registry.get_kind.cache_clear()
    yield ScriptedKind
    registry.get_kind.cache_clear()


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def send(agent, conversation, text="Ecco il codice di tracciamento."):
        with django_capture_on_commit_callbacks(execute=True):
            return do_send_reply(agent, conversation, text)

    return send


@pytest.fixture
def timer(django_capture_on_commit_callbacks):
    def tick(now):
        with django_capture_on_commit_callbacks(execute=True):
            return do_retry_due_deliveries(now)

    return tick


def scripted_conversation():
    org = make_org()
    channel = Channel.objects.create(organization=org, kind="scripted", name="Scripted")
    contact = Contact.objects.create(organization=org, name="Mario Bianchi")
    conversation = Conversation.objects.create(organization=org, channel=channel, contact=contact)
    return make_agent(org), conversation


def test_a_reply_is_sent_once_and_recorded(scripted, send):
    agent, conversation = scripted_conversation()
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert scripted.sent == [message.code]
    assert (delivery.status, delivery.attempts, delivery.provider_message_id) == ("sent", 1, "provider-1")
    assert delivery.organization_id == conversation.organization_id
    assert delivery.sent_at is not None
    assert Message.objects.get(pk=message.pk).delivery_status == "sent"


def test_an_internal_note_is_never_delivered(scripted, django_capture_on_commit_callbacks):
    agent, conversation = scripted_conversation()
    with django_capture_on_commit_callbacks(execute=True):
        note = do_send_reply(agent, conversation, "Cliente già rimborsato", internal=True)
    assert not Delivery.objects.exists()
    assert scripted.sent == []
    with pytest.raises(ValueError):
        do_enqueue_delivery(note)


def test_temporary_errors_back_off_then_fail_with_an_event(scripted, send, timer):
    agent, conversation = scripted_conversation()
    scripted.script.extend(TemporaryDeliveryError("provider busy") for _ in range(MAX_ATTEMPTS))
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    waits = []
    while delivery.status == "queued":
        waits.append(delivery.next_attempt_at - delivery.updated_at)
        assert timer(delivery.next_attempt_at) == 1
        delivery.refresh_from_db()
    assert len(scripted.sent) == MAX_ATTEMPTS
    assert waits == sorted(waits)  # each wait longer than the one before
    assert waits[0] < dt.timedelta(seconds=40) and waits[-1] > dt.timedelta(hours=9)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)
    assert delivery.last_error == f"provider busy (gave up after {MAX_ATTEMPTS} attempts)"
    assert Message.objects.get(pk=message.pk).delivery_status == "failed"
    [event] = ConversationEvent.objects.filter(conversation=conversation, kind="delivery_failed")
    assert event.data["attempts"] == MAX_ATTEMPTS


def test_an_unknown_result_is_not_repeated_without_idempotency(scripted, send, timer):
    agent, conversation = scripted_conversation()
    scripted.script.append(UnknownDeliveryResult("connection dropped after sending"))
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.next_attempt_at) == ("unknown", None)
    assert delivery.last_error == "connection dropped after sending"
    assert Message.objects.get(pk=message.pk).delivery_status == DeliveryStatus.UNKNOWN
    assert timer(timezone.now() + dt.timedelta(days=3)) == 0
    assert deliver.enqueue(delivery.pk).return_value == "skipped"
    assert len(scripted.sent) == 1


def test_an_unexpected_error_counts_as_unknown(scripted, send):
    agent, conversation = scripted_conversation()
    scripted.script.append(RuntimeError("bug in the adapter"))
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == "unknown"
    assert delivery.last_error == "Unexpected error while sending (RuntimeError)"


def test_a_channel_level_error_disables_the_channel(scripted, send):
    agent, conversation = scripted_conversation()
    scripted.script.append(PermanentChannelError("credentials revoked"))
    message = send(agent, conversation)
    channel = Channel.objects.get(pk=conversation.channel_id)
    assert channel.is_enabled is False
    assert channel.disabled_reason == "Delivery failed permanently: credentials revoked"
    assert Delivery.objects.get(message=message).status == "failed"


def test_the_timer_dispatches_a_job_the_queue_lost(scripted, timer):
    agent, conversation = scripted_conversation()
    # Without running the after-commit callbacks the job is never enqueued: lost.
    message = do_send_reply(agent, conversation, "Arriva domani.")
    now = timezone.now()
    assert timer(now) == 0  # just asked for: the job may still be waiting in the queue
    assert scripted.sent == []
    assert timer(now + dt.timedelta(minutes=6)) == 1
    assert timer(now + dt.timedelta(minutes=20)) == 0
    assert scripted.sent == [message.code]
    assert Delivery.objects.get(message=message).status == "sent"


def test_a_worker_that_died_mid_send_leaves_an_unknown_result(scripted, send, timer, monkeypatch):
    agent, conversation = scripted_conversation()
    scripted.script.append(TemporaryDeliveryError("busy"))
    message = send(agent, conversation)
    # The next attempt is claimed by a worker that dies before recording anything.
    delivery = Delivery.objects.get(message=message)
    Delivery.objects.filter(pk=delivery.pk).update(
        status="sending", attempts=2, next_attempt_at=timezone.now() + SEND_LEASE
    )
    assert timer(timezone.now()) == 0  # within the lease: still sending
    assert timer(timezone.now() + SEND_LEASE + dt.timedelta(seconds=1)) == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == ("unknown", None)
    assert Message.objects.get(pk=message.pk).delivery_status == "unknown"

    # A kind that drops repeated sends is tried again.
    monkeypatch.setattr(ScriptedKind, "idempotent_send", True)
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", next_attempt_at=timezone.now())
    assert timer(timezone.now() + dt.timedelta(seconds=1)) == 0
    delivery.refresh_from_db()
    assert delivery.status == "unknown" and delivery.next_attempt_at is not None
    assert timer(delivery.next_attempt_at) == 1
    assert Delivery.objects.get(pk=delivery.pk).status == "sent"


def test_runtimers_sends_due_retries(scripted, send, django_capture_on_commit_callbacks):
    agent, conversation = scripted_conversation()
    scripted.script.append(TemporaryDeliveryError("busy"))
    message = send(agent, conversation)
    # Time passes: the retry is due.
    Delivery.objects.filter(message=message).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("runtimers", stdout=out)
    assert "deliveries=1" in out.getvalue()
    assert Delivery.objects.get(message=message).status == "sent"
    assert scripted.sent == [message.code, message.code]


def test_a_job_queued_before_the_outbox_hands_the_reply_to_it(scripted, django_capture_on_commit_callbacks):
    agent, conversation = scripted_conversation()
    message = do_send_reply(agent, conversation, "Arriva domani.")
    Delivery.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_message.enqueue(message.pk).return_value == "queued"
    assert deliver_message.enqueue(message.pk).return_value == "skipped"
    assert Delivery.objects.get(message=message).status == "sent"
