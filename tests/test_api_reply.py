"""Answering and noting: POST /api/v1/conversations/{code}/messages."""

import pytest

from adesso.conversations.models import Conversation, ConversationEvent, Message
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def kinds(code):
    return list(
        ConversationEvent.objects.filter(conversation__code=code)
        .order_by("created_at", "pk")
        .values_list("kind", flat=True)
    )


def test_reply_stops_the_wait_and_makes_the_replier_the_assignee():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    code = customer_writes(make_api_channel(org))["conversation"]

    r = giulia.post(f"/conversations/{code}/messages", {"text": "  Arriva domani  "})

    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["direction"], body["internal"], body["text"]) == ("outgoing", False, "Arriva domani")
    assert body["author"] == "Giulia"
    assert body["conversation"] == code
    conversation = Conversation.objects.get(code=code)
    assert conversation.waiting_since is None
    assert conversation.first_response_at is not None
    assert conversation.assignee == giulia.agent
    assert conversation.last_message_preview == "Arriva domani"
    assert kinds(code) == ["created", "message_received", "assigned", "message_sent"]
    sent = ConversationEvent.objects.get(conversation=conversation, kind="message_sent")
    assert sent.actor == giulia.agent
    assert sent.data == {"message": body["code"]}


def test_first_response_is_kept_and_a_new_customer_message_waits_again():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    ch = make_api_channel(org)
    code = customer_writes(ch)["conversation"]
    giulia.post(f"/conversations/{code}/messages", {"text": "Controllo"})
    first_response = Conversation.objects.get(code=code).first_response_at

    customer_writes(ch, "Allora?")
    assert Conversation.objects.get(code=code).waiting_since is not None
    giulia.post(f"/conversations/{code}/messages", {"text": "Arriva domani"})

    conversation = Conversation.objects.get(code=code)
    assert conversation.first_response_at == first_response
    assert conversation.waiting_since is None


def test_internal_note_changes_nothing_the_customer_waits_for():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    code = customer_writes(make_api_channel(org))["conversation"]
    before = Conversation.objects.get(code=code)

    r = giulia.post(f"/conversations/{code}/messages", {"text": "Cliente nervoso", "internal": True})

    assert r.status_code == 201, r.content
    assert r.json()["internal"] is True
    assert r.json()["delivery_status"] == ""
    conversation = Conversation.objects.get(code=code)
    assert conversation.waiting_since == before.waiting_since
    assert conversation.first_response_at is None
    assert conversation.assignee is None
    assert conversation.last_message_preview == before.last_message_preview
    assert kinds(code) == ["created", "message_received", "note_added"]


def test_reply_keeps_another_agents_assignment():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    marco = make_agent(org, "Marco")
    code = customer_writes(make_api_channel(org))["conversation"]
    giulia.post(f"/conversations/{code}/assign", {"assignee": marco.code})

    giulia.post(f"/conversations/{code}/messages", {"text": "Rispondo io intanto"})

    assert Conversation.objects.get(code=code).assignee == marco
    assert kinds(code).count("assigned") == 1


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"text": "   "}, 400, "empty"),
        ({"text": ""}, 422, "invalid"),
        ({}, 422, "invalid"),
        ({"text": "x" * 100_001}, 422, "invalid"),
        ({"text": ["a"]}, 422, "invalid"),
        ({"text": "ok", "internal": "perhaps"}, 422, "invalid"),
    ],
)
def test_bad_reply_stores_nothing(body, status, error):
    org = make_org()
    api = AgentApi(make_agent(org))
    code = customer_writes(make_api_channel(org))["conversation"]

    r = api.post(f"/conversations/{code}/messages", body)

    assert r.status_code == status, r.content
    assert r.json()["error"] == error
    assert r.json()["message"]
    assert Message.objects.count() == 1
    assert kinds(code) == ["created", "message_received"]
    assert Conversation.objects.get(code=code).assignee is None
