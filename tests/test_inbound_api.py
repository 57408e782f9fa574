"""Intake through the API channel: POST /api/v1/inbound/{channel_code}."""

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from adesso.contacts.models import Contact
from adesso.conversations.models import Attachment, Conversation, ConversationEvent, Message
from tests.builders import inbound_payload, make_api_channel, make_org, post_inbound

pytestmark = pytest.mark.django_db


def test_new_message_opens_conversation(client):
    ch = make_api_channel(make_org())
    r = post_inbound(client, ch, inbound_payload(text="Il pacco non è arrivato"))
    assert r.status_code == 202, r.content
    body = r.json()
    conversation = Conversation.objects.get(code=body["conversation"])
    message = Message.objects.get(code=body["message"])
    assert body["duplicate"] is False
    assert message.conversation == conversation
    assert message.text == "Il pacco non è arrivato"
    assert conversation.status == "open"
    assert conversation.waiting_since is not None
    assert conversation.contact.name == "Mario Bianchi"
    kinds = list(ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))
    assert kinds == ["created", "message_received"]


def test_same_external_id_ten_times_stores_one_message(client):
    ch = make_api_channel(make_org())
    payload = inbound_payload(external_id="wa-123")
    answers = [post_inbound(client, ch, payload).json() for _ in range(10)]
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert ConversationEvent.objects.filter(kind="message_received").count() == 1
    assert {a["message"] for a in answers} == {answers[0]["message"]}
    assert [a["duplicate"] for a in answers] == [False] + [True] * 9


def test_next_message_joins_the_open_conversation(client):
    ch = make_api_channel(make_org())
    first = post_inbound(client, ch, inbound_payload()).json()
    second = post_inbound(client, ch, inbound_payload(text="Ci siete?")).json()
    assert first["conversation"] == second["conversation"]
    other = post_inbound(client, ch, inbound_payload(sender_id="someone-else")).json()
    assert other["conversation"] != first["conversation"]


def test_after_resolution_a_new_conversation_opens(client):
    ch = make_api_channel(make_org())
    first = post_inbound(client, ch, inbound_payload()).json()
    Conversation.objects.filter(code=first["conversation"]).update(status="resolved")
    second = post_inbound(client, ch, inbound_payload()).json()
    assert second["conversation"] != first["conversation"]
    assert Contact.objects.count() == 1


def test_sender_email_links_to_the_known_contact_across_channels(client):
    org = make_org()
    web, app = make_api_channel(org, "Sito"), make_api_channel(org, "App")
    a = post_inbound(client, web, inbound_payload(sender={"email": "Mario@Example.com"})).json()
    b = post_inbound(client, app, inbound_payload(sender_id="u-77", sender={"email": "mario@example.com"})).json()
    ca = Conversation.objects.get(code=a["conversation"])
    cb = Conversation.objects.get(code=b["conversation"])
    assert ca != cb
    assert ca.contact_id == cb.contact_id
    assert ca.contact.email == "mario@example.com"


def test_attachment_is_stored(client):
    ch = make_api_channel(make_org())
    payload = inbound_payload(attachments=[{
        "filename": "scontrino.txt", "content_type": "text/plain",
        "content_base64": base64.b64encode(b"totale 12,50").decode(),
    }])
    r = post_inbound(client, ch, payload)
    assert r.status_code == 202
    attachment = Attachment.objects.get()
    assert attachment.size == 12
    assert attachment.file.read() == b"totale 12,50"


def test_html_is_sanitised(client):
    ch = make_api_channel(make_org())
    payload = inbound_payload(text="", html='<p onclick="x()">Ciao<script>alert(1)</script>'
                              '<a href="javascript:alert(2)">qui</a></p>')
    r = post_inbound(client, ch, payload)
    assert r.status_code == 202
    message = Message.objects.get()
    assert "script" not in message.html
    assert "onclick" not in message.html
    assert "javascript:" not in message.html
    assert message.text == "Ciaoqui"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'{"external_id": "x", "sender": {"external_id": "c"}, "text": "\xff\xfe"}', 400, "invalid_utf8"),
        (json.dumps({"sender": {"external_id": "c"}, "text": "hi"}), 422, "invalid"),
        (json.dumps({"external_id": "x", "text": "hi"}), 422, "invalid"),
        (json.dumps({"external_id": "x", "sender": {"external_id": "c"}, "text": ""}), 422, "invalid"),
        (json.dumps({"external_id": "x", "sender": {"external_id": "c"}, "text": "a\u0000b"}), 422, "invalid"),
        (json.dumps({"external_id": "x", "sender": {"external_id": "c"}, "text": "a\ud800b"}), 400, "invalid_json"),
        (json.dumps({"external_id": "x", "sender": {"external_id": "c"}, "text": "hi",
                     "sent_at": "2026-11-24T10:00:00"}), 422, "invalid"),
        (json.dumps({"external_id": "x", "sender": {"external_id": "c"}, "text": "hi",
                     "attachments": [{"filename": "a", "content_base64": "!!!"}]}), 422, "invalid"),
        (json.dumps([1, 2]), 422, "invalid"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(client, body, status, error):
    ch = make_api_channel(make_org())
    r = post_inbound(client, ch, body)
    assert r.status_code == status, r.content
    assert r.json()["error"] == error
    assert r.json()["message"]
    assert Message.objects.count() == 0
    assert Contact.objects.count() == 0


def test_oversized_attachment_is_refused(client, settings):
    settings.ADESSO_MAX_ATTACHMENT_BYTES = 1000
    ch = make_api_channel(make_org())
    payload = inbound_payload(attachments=[{"filename": "big.bin",
                                            "content_base64": base64.b64encode(b"x" * 1001).decode()}])
    r = post_inbound(client, ch, payload)
    assert r.status_code == 422
    assert "limit" in r.json()["message"]
    assert Message.objects.count() == 0


def test_oversized_body_is_refused(client, settings):
    settings.ADESSO_MAX_BODY_BYTES = 2000
    ch = make_api_channel(make_org())
    r = post_inbound(client, ch, inbound_payload(text="x" * 3000))
    assert r.status_code == 413
    assert r.json()["error"] == "too_large"


def test_wrong_token_and_unknown_channel(client):
    org = make_org()
    ch = make_api_channel(org)
    other = make_api_channel(make_org("Altra"))
    assert post_inbound(client, ch, inbound_payload(), token="nope").status_code == 401
    # Another channel's valid token does not open this one.
    assert post_inbound(client, ch, inbound_payload(), token=other.token).status_code == 401
    r = client.post("/api/v1/inbound/doesnotexist", "{}", content_type="application/json",
                    headers={"Authorization": f"Bearer {ch.token}"})
    assert r.status_code == 404
    assert r.json()["error"] == "unknown_channel"
    r = client.post(ch.url, json.dumps(inbound_payload()), content_type="application/json")
    assert r.status_code == 401
    assert Message.objects.count() == 0


def test_wrong_content_type(client):
    ch = make_api_channel(make_org())
    r = client.post(ch.url, "external_id=1", content_type="application/x-www-form-urlencoded",
                    headers={"Authorization": f"Bearer {ch.token}"})
    assert r.status_code == 415


@pytest.mark.django_db(transaction=True)
def test_concurrent_messages_of_one_contact_open_one_conversation():
    # A returning customer whose conversation was resolved writes several messages
    # at once: they all land in one new conversation (on PostgreSQL the contact's
    # row lock queues them; on SQLite the write lock does).
    ch = make_api_channel(make_org())
    first = post_inbound(Client(), ch, inbound_payload(sender_id="c-race")).json()
    Conversation.objects.filter(code=first["conversation"]).update(status="resolved")
    barrier = threading.Barrier(6)

    def send(_: int) -> int:
        barrier.wait()
        try:
            return post_inbound(Client(), ch, inbound_payload(sender_id="c-race")).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(send, range(6)))
    assert statuses == [202] * 6
    assert Conversation.objects.filter(status="open").count() == 1
    assert Message.objects.filter(conversation__status="open").count() == 6
