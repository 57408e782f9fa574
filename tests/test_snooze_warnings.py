"""A snooze past the time promised to a waiting customer, or past the SLA due time,
warns first (the page asks to confirm; the API answers `warnings`), and the promise is
updated honestly instead of breaking in silence."""

import datetime as dt

import pytest
from django.utils import timezone

from adesso.autoreply.actions import do_check_promises
from adesso.conversations.actions import do_send_reply, do_snooze
from adesso.conversations.models import Conversation, Message
from tests.builders import AgentApi, make_agent, make_api_channel, make_org
from tests.test_front_views import logged_in, receive

pytestmark = pytest.mark.django_db


def waiting_customer():
    """Sara (English UI) and a customer who was just told when a person will answer."""
    org = make_org(ack=True)
    sara = make_agent(org, "Sara", language="en")
    conversation = receive(make_api_channel(org), text="Where is my order?")
    assert conversation.promise_at is not None and conversation.sla_due_at is not None
    return sara, conversation


def automatic_messages(conversation):
    return list(Message.objects.filter(conversation=conversation, auto=True).order_by("created_at", "pk"))


def test_the_page_asks_before_a_snooze_that_breaks_the_promise_and_the_sla():
    sara, conversation = waiting_customer()
    client = logged_in(sara)

    asked = client.post(f"/c/{conversation.code}/snooze", {"preset": "3h"})

    html = asked.content.decode()
    assert asked.status_code == 200
    assert 'id="snooze-confirm"' in html
    assert "snooze-warning-promise" in html and "snooze-warning-sla" in html
    assert "The customer was told a person would answer by" in html
    assert "The service level is due at" in html
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert len(automatic_messages(conversation)) == 1  # the acknowledgement only


def test_confirming_snoozes_and_tells_the_customer_the_new_time():
    sara, conversation = waiting_customer()
    client = logged_in(sara)
    until = (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0)

    done = client.post(f"/c/{conversation.code}/snooze", {"until": until.isoformat(), "confirmed": "1"})

    assert done.status_code == 302
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == ("snoozed", until)
    _ack, update = automatic_messages(conversation)
    assert update.text.startswith("This is taking longer than we told you")
    # The new promise leaves room to answer once the conversation is back.
    assert conversation.promise_at >= until + dt.timedelta(minutes=10)


def test_a_snooze_that_breaks_nothing_is_not_asked_about():
    sara, conversation = waiting_customer()
    do_send_reply(sara, conversation, "It left this morning: tracking number 123.")
    client = logged_in(sara)

    done = client.post(f"/c/{conversation.code}/snooze", {"preset": "3h"})

    assert done.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == "snoozed"


def test_the_api_snoozes_and_answers_the_warnings():
    sara, conversation = waiting_customer()
    api = AgentApi(sara)
    promise, due = conversation.promise_at, conversation.sla_due_at
    until = timezone.now() + dt.timedelta(hours=3)

    r = api.post(f"/conversations/{conversation.code}/snooze", {"until": until.isoformat()})

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "snoozed"
    times = {w["kind"]: dt.datetime.fromisoformat(w["due_at"]) for w in body["warnings"]}
    assert set(times) == {"promise", "sla"}
    # JSON carries milliseconds.
    assert abs(times["promise"] - promise) < dt.timedelta(milliseconds=1)
    assert abs(times["sla"] - due) < dt.timedelta(milliseconds=1)
    assert all(w["message"] for w in body["warnings"])
    assert len(automatic_messages(conversation)) == 2


def test_the_api_snooze_within_the_promise_has_no_warnings_and_sends_nothing():
    sara, conversation = waiting_customer()
    api = AgentApi(sara)
    until = conversation.promise_at - dt.timedelta(minutes=5)

    r = api.post(f"/conversations/{conversation.code}/snooze", {"until": until.isoformat()})

    assert r.status_code == 200, r.content
    assert r.json()["warnings"] == []
    assert len(automatic_messages(conversation)) == 1


def test_a_promise_still_holds_while_snoozed_and_is_checked_when_it_wakes():
    sara, conversation = waiting_customer()
    until = conversation.promise_at - dt.timedelta(minutes=5)
    do_snooze(sara, conversation, until)
    promise = conversation.promise_at
    check_at = Conversation.objects.get(pk=conversation.pk).promise_check_at

    do_check_promises(now=check_at)

    conversation.refresh_from_db()
    assert conversation.promise_at == promise
    assert conversation.promise_check_at == until
