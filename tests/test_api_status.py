"""Status, snooze and priority: POST /api/v1/conversations/{code}/status|snooze|priority."""

import datetime as dt

import pytest
from django.utils import timezone

from adesso.conversations.models import Conversation, ConversationEvent
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def last_event(code):
    return ConversationEvent.objects.filter(conversation__code=code).latest("created_at", "pk")


def event_count(code):
    return ConversationEvent.objects.filter(conversation__code=code).count()


def setup():
    org = make_org()
    api = AgentApi(make_agent(org, "Giulia"))
    ch = make_api_channel(org)
    return api, ch, customer_writes(ch)["conversation"]


def test_resolve_and_reopen():
    api, _, code = setup()

    resolved = api.post(f"/conversations/{code}/status", {"status": "resolved", "reason": "Rimborso fatto"})

    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None
    event = last_event(code)
    assert (event.kind, event.actor) == ("status_changed", api.agent)
    # The customer's message was unanswered: the reason is what lets it close.
    assert event.data == {"from": "open", "to": "resolved", "reason": "Rimborso fatto", "unanswered": True}

    reopened = api.post(f"/conversations/{code}/status", {"status": "open"})

    assert reopened.json()["status"] == "open"
    assert reopened.json()["resolved_at"] is None
    assert last_event(code).data == {"from": "resolved", "to": "open"}


def test_pending_and_the_same_status_twice():
    api, _, code = setup()

    api.post(f"/conversations/{code}/status", {"status": "pending"})
    count = event_count(code)
    again = api.post(f"/conversations/{code}/status", {"status": "pending"})

    assert again.status_code == 200
    assert again.json()["status"] == "pending"
    assert event_count(code) == count


@pytest.mark.parametrize("status", ["snoozed", "closed", "", None])
def test_unknown_status_or_snoozed_without_time_is_refused(status):
    api, _, code = setup()

    r = api.post(f"/conversations/{code}/status", {"status": status})

    assert r.status_code == 422, r.content
    assert r.json()["error"] == "invalid"
    assert "status" in r.json()["message"]
    assert Conversation.objects.get(code=code).status == "open"


def test_snooze_until_a_time_then_the_customer_wakes_it():
    api, ch, code = setup()
    until = (
        (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0).astimezone(dt.timezone(dt.timedelta(hours=1)))
    )

    r = api.post(f"/conversations/{code}/snooze", {"until": until.isoformat()})

    assert r.status_code == 200, r.content
    assert r.json()["status"] == "snoozed"
    assert dt.datetime.fromisoformat(r.json()["snoozed_until"]) == until
    event = last_event(code)
    assert event.kind == "snoozed"
    assert event.data == {"from": "open", "until": until.isoformat()}
    assert api.get("/conversations", status="snoozed").json()["count"] == 1

    customer_writes(ch, "Ci siete?")

    conversation = Conversation.objects.get(code=code)
    assert (conversation.status, conversation.snoozed_until) == ("open", None)


@pytest.mark.parametrize(
    ("until", "status", "error"),
    [
        ((timezone.now() + dt.timedelta(hours=1)).replace(tzinfo=None).isoformat(), 400, "invalid_time"),
        ((timezone.now() - dt.timedelta(minutes=1)).isoformat(), 400, "invalid_time"),
        ("domani", 422, "invalid"),
        ("9999-12-31T23:59:59-14:00", 422, "invalid"),
        ("0001-01-01T00:00:00+14:00", 422, "invalid"),
        (None, 422, "invalid"),
    ],
)
def test_bad_snooze_time_is_refused(until, status, error):
    api, _, code = setup()
    count = event_count(code)

    r = api.post(f"/conversations/{code}/snooze", {"until": until})

    assert r.status_code == status, r.content
    assert r.json()["error"] == error
    assert r.json()["message"]
    assert Conversation.objects.get(code=code).status == "open"
    assert event_count(code) == count


def test_priority():
    api, _, code = setup()

    r = api.post(f"/conversations/{code}/priority", {"priority": 3})

    assert r.status_code == 200, r.content
    assert r.json()["priority"] == 3
    event = last_event(code)
    assert (event.kind, event.data) == ("priority_changed", {"from": 1, "to": 3})
    count = event_count(code)
    assert api.post(f"/conversations/{code}/priority", {"priority": 3}).status_code == 200
    assert event_count(code) == count


@pytest.mark.parametrize("priority", [-1, 4, "high", None, 1.5])
def test_bad_priority_is_refused(priority):
    api, _, code = setup()

    r = api.post(f"/conversations/{code}/priority", {"priority": priority})

    assert r.status_code == 422, r.content
    assert "priority" in r.json()["message"]
    assert Conversation.objects.get(code=code).priority == 1
