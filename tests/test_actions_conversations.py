"""The conversation actions called directly (the API and the UI call the same)."""

import datetime as dt

import pytest
from django.utils import timezone

from adesso.conversations.actions import (
    do_assign,
    do_change_status,
    do_send_reply,
    do_set_priority,
    do_snooze,
    do_wake_snoozed,
)
from adesso.conversations.models import Conversation, ConversationEvent, Message
from adesso.lib.errors import ActionError
from tests.builders import customer_writes, make_agent, make_api_channel, make_org, make_team

pytestmark = pytest.mark.django_db


def conversation_in(org, sender_id="cust-1"):
    return Conversation.objects.get(code=customer_writes(make_api_channel(org), sender_id=sender_id)["conversation"])


def test_nothing_crosses_organisations():
    org, other = make_org(), make_org("Altra")
    giulia = make_agent(org, "Giulia")
    stranger = make_agent(other, "Bruno")
    foreign_team = make_team(other, "Magazzino", [stranger])
    conversation = conversation_in(org)

    with pytest.raises(ActionError) as reply:
        do_send_reply(stranger, conversation, "Ciao")
    with pytest.raises(ActionError) as assign:
        do_assign(giulia, conversation, stranger)
    with pytest.raises(ActionError) as team:
        do_assign(giulia, conversation, None, foreign_team)

    assert [e.value.code for e in (reply, assign, team)] == ["not_found"] * 3
    assert Message.objects.count() == 1
    assert Conversation.objects.get(pk=conversation.pk).assignee is None


def test_status_and_priority_refuse_unknown_values():
    org = make_org()
    giulia = make_agent(org)
    conversation = conversation_in(org)

    for status in ("snoozed", "closed"):
        with pytest.raises(ActionError) as refused:
            do_change_status(giulia, conversation, status)
        assert refused.value.code == "invalid_status"
    with pytest.raises(ActionError) as priority:
        do_set_priority(giulia, conversation, 7)

    assert priority.value.code == "invalid_priority"
    assert ConversationEvent.objects.filter(conversation=conversation).count() == 2


def test_snooze_needs_an_aware_future_time():
    org = make_org()
    giulia = make_agent(org)
    conversation = conversation_in(org)
    later = timezone.now() + dt.timedelta(hours=1)

    for until in (later.replace(tzinfo=None), timezone.now() - dt.timedelta(seconds=1)):
        with pytest.raises(ActionError) as refused:
            do_snooze(giulia, conversation, until)
        assert refused.value.code == "invalid_time"
    do_snooze(giulia, conversation, later)

    assert Conversation.objects.get(pk=conversation.pk).status == "snoozed"


def test_due_snoozes_wake_once():
    org = make_org()
    giulia = make_agent(org)
    due, later = conversation_in(org, "a"), conversation_in(org, "b")
    now = timezone.now()
    do_snooze(giulia, due, now + dt.timedelta(minutes=5))
    do_snooze(giulia, later, now + dt.timedelta(days=1))

    woken = do_wake_snoozed(now + dt.timedelta(minutes=10))
    again = do_wake_snoozed(now + dt.timedelta(minutes=10))

    assert (woken, again) == (1, 0)
    assert Conversation.objects.get(pk=due.pk).status == "open"
    assert Conversation.objects.get(pk=due.pk).snoozed_until is None
    assert Conversation.objects.get(pk=later.pk).status == "snoozed"
    event = ConversationEvent.objects.filter(conversation=due).latest("created_at", "pk")
    assert (event.kind, event.actor) == ("status_changed", None)
    assert event.data == {"from": "snoozed", "to": "open", "reason": "snooze_due"}


def test_every_change_is_one_event_by_its_actor():
    org = make_org()
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    conversation = conversation_in(org)

    do_send_reply(giulia, conversation, "Nota", internal=True)
    do_send_reply(giulia, conversation, "Risposta")
    do_assign(giulia, conversation, marco, note="Passo a Marco")
    do_set_priority(marco, conversation, 2)
    do_snooze(marco, conversation, timezone.now() + dt.timedelta(hours=1))
    do_change_status(marco, conversation, "resolved")

    events = ConversationEvent.objects.filter(conversation=conversation).order_by("created_at", "pk")
    assert [(e.kind, e.actor.name if e.actor else None) for e in events] == [
        ("created", None),
        ("message_received", None),
        ("note_added", "Giulia"),
        ("assigned", "Giulia"),
        ("message_sent", "Giulia"),
        ("transferred", "Giulia"),
        ("priority_changed", "Marco"),
        ("snoozed", "Marco"),
        ("status_changed", "Marco"),
    ]
    assert all(e.organization_id == org.pk for e in events)
