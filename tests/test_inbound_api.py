"""Intake through the API channel: POST /api/v1/inbound/{channel_code} stores the raw
event and answers 202 at once with the event's and the message's codes; the pipeline's
worker (run here as the task queue runs it: `do_process_events`) makes the message;
GET /api/v1/inbound/{channel_code}/events/{event} tells what became of it.

Run on SQLite and on PostgreSQL (DATABASE_URL=postgres://...)."""

import base64
import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.template.loader import get_template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from adesso.channels import pipeline
from adesso.channels.actions import do_replay_event
from adesso.channels.api.adapter import ApiChannelConfig
from adesso.channels.api.forms import ApiConfigForm
from adesso.channels.models import Channel, InboundEvent
from adesso.channels.pipeline import RETRY_DELAYS, do_process_events
from adesso.contacts.models import Contact
from adesso.conversations.models import Attachment, Conversation, ConversationEvent, Message
from tests.builders import (
    customer_writes,
    inbound_payload,
    make_api_channel,
    make_org,
    post_inbound,
    receive_inbound,
)

pytestmark = pytest.mark.django_db


def event_status(client, ch, event, token=None):
    return client.get(f"{ch.url}/events/{event}", headers={"Authorization": f"Bearer {token or ch.token}"})


# --- accepted at once, processed by the worker -------------------------------------------


def test_accepted_at_once_with_the_codes_then_processed(client):
    ch = make_api_channel(make_org())

    r = post_inbound(client, ch, inbound_payload(text="Il pacco non è arrivato"))

    assert r.status_code == 202, r.content
    body = r.json()
    assert set(body) == {"event", "message", "duplicate"}
    assert body["duplicate"] is False
    assert len(body["event"]) >= 12 and len(body["message"]) >= 12
    # Stored raw, nothing else yet: the worker makes the message.
    event = InboundEvent.objects.get()
    assert (event.code, event.message_code, event.state) == (body["event"], body["message"], "accepted")
    assert Message.objects.count() == 0
    assert event_status(client, ch, body["event"]).json() == {
        "event": body["event"],
        "state": "accepted",
        "conversation": None,
        "message": body["message"],
        "error": None,
    }

    assert do_process_events() == 1

    status = event_status(client, ch, body["event"]).json()
    message = Message.objects.get()
    conversation = message.conversation
    assert status == {
        "event": body["event"],
        "state": "processed",
        "conversation": conversation.code,
        "message": body["message"],
        "error": None,
    }
    assert message.code == body["message"]  # the code promised on accept
    assert message.text == "Il pacco non è arrivato"
    assert conversation.status == "open"
    assert conversation.waiting_since is not None
    assert conversation.contact.name == "Mario Bianchi"
    kinds = list(ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))
    assert kinds == ["created", "message_received"]


def test_accepting_is_one_insert_of_the_raw_event(client):
    ch = make_api_channel(make_org())
    post_inbound(client, ch, inbound_payload())  # the channel is looked up once per 5 s

    traced: list[str] = []
    if connection.vendor == "sqlite":
        # The INSERT runs on the driver's own connection (past Django's query log):
        # SQLite's own trace sees every statement.
        connection.ensure_connection()
        connection.connection.set_trace_callback(traced.append)
    try:
        with CaptureQueriesContext(connection) as ctx:
            r = post_inbound(client, ch, inbound_payload(sender_id="new-customer", sender={"email": "n@example.com"}))
    finally:
        if connection.vendor == "sqlite":
            connection.connection.set_trace_callback(None)

    assert r.status_code == 202, r.content
    # Python's callback names a trigger's steps by their outer statement: count it once.
    traced = [t for i, t in enumerate(traced) if not t.startswith("--") and (i == 0 or t != traced[i - 1])]
    statements = [q["sql"] for q in ctx.captured_queries] + traced
    statements = [s for s in statements if not s.upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    # The event, with the wish for processing in the same statement (SQLite: a trigger).
    # On PostgreSQL the statement goes through psycopg's own cursor (the raw body as a
    # binary parameter), which Django's query log does not see: there, the row is counted.
    expected = ["INSERT INTO channels_inboundevent"]
    if connection.vendor == "postgresql":
        expected = []
    assert [s.split("(", 1)[0].strip() for s in statements] == expected, [s[:80] for s in statements]
    assert InboundEvent.objects.filter(channel=ch.channel).count() == 2


def test_the_same_message_five_times_is_one_message_with_the_promised_code(client):
    ch = make_api_channel(make_org())
    payload = inbound_payload(external_id="wa-123")

    answers = [post_inbound(client, ch, payload).json() for _ in range(5)]
    do_process_events()
    answers += [post_inbound(client, ch, payload).json() for _ in range(2)]  # after processing too
    do_process_events()

    assert {a["event"] for a in answers} == {answers[0]["event"]}
    assert {a["message"] for a in answers} == {answers[0]["message"]}
    assert [a["duplicate"] for a in answers] == [False] + [True] * 6
    assert InboundEvent.objects.count() == 1
    message = Message.objects.get()
    assert message.code == answers[0]["message"]
    assert Conversation.objects.count() == 1
    assert ConversationEvent.objects.filter(kind="message_received").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_message_posted_concurrently_is_one_event_and_one_message():
    ch = make_api_channel(make_org())
    payload = inbound_payload(external_id="app-race")
    barrier = threading.Barrier(5)

    def send(_: int) -> dict:
        barrier.wait()
        try:
            r = post_inbound(Client(), ch, payload)
            assert r.status_code == 202, r.content
            return r.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(send, range(5)))
    do_process_events()

    assert len({(a["event"], a["message"]) for a in answers}) == 1
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 4
    assert Message.objects.get().code == answers[0]["message"]


def test_next_message_joins_the_open_conversation(client):
    ch = make_api_channel(make_org())
    first = receive_inbound(client, ch, inbound_payload())
    second = receive_inbound(client, ch, inbound_payload(text="Ci siete?"))
    assert first["conversation"] == second["conversation"]
    other = receive_inbound(client, ch, inbound_payload(sender_id="someone-else"))
    assert other["conversation"] != first["conversation"]


def test_after_resolution_a_new_conversation_opens(client):
    ch = make_api_channel(make_org())
    first = receive_inbound(client, ch, inbound_payload())
    Conversation.objects.filter(code=first["conversation"]).update(status="resolved")
    second = receive_inbound(client, ch, inbound_payload())
    assert second["conversation"] != first["conversation"]
    assert Contact.objects.count() == 1


def test_one_senders_messages_out_of_order_are_filed_in_the_order_they_were_written(client):
    ch = make_api_channel(make_org())
    written = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
    bodies = [
        inbound_payload(text=f"messaggio {n}", sent_at=(written + dt.timedelta(seconds=n)).isoformat())
        for n in (1, 2, 3)
    ]

    for body in (bodies[2], bodies[0], bodies[1]):  # the client's retries reorder them
        assert post_inbound(client, ch, body).status_code == 202
    do_process_events(timezone.now() + pipeline.DEFER)

    texts = list(Message.objects.order_by("created_at", "pk").values_list("text", flat=True))
    assert texts == ["messaggio 1", "messaggio 2", "messaggio 3"]
    assert Conversation.objects.count() == 1


def test_sender_email_links_to_the_known_contact_across_channels(client):
    org = make_org()
    web, app = make_api_channel(org, "Sito"), make_api_channel(org, "App")
    a = receive_inbound(client, web, inbound_payload(sender={"email": "Mario@Example.com"}))
    b = receive_inbound(client, app, inbound_payload(sender_id="u-77", sender={"email": "mario@example.com"}))
    ca = Conversation.objects.get(code=a["conversation"])
    cb = Conversation.objects.get(code=b["conversation"])
    assert ca != cb
    assert ca.contact_id == cb.contact_id
    assert ca.contact.email == "mario@example.com"


def test_attachment_is_stored(client):
    ch = make_api_channel(make_org())
    payload = inbound_payload(
        attachments=[
            {
                "filename": "scontrino.txt",
                "content_type": "text/plain",
                "content_base64": base64.b64encode(b"totale 12,50").decode(),
            }
        ]
    )
    answer = receive_inbound(client, ch, payload)
    attachment = Attachment.objects.get()
    assert attachment.message.code == answer["message"]
    assert attachment.size == 12
    assert attachment.file.read() == b"totale 12,50"


def test_html_is_sanitised(client):
    ch = make_api_channel(make_org())
    payload = inbound_payload(
        text="", html='<p onclick="x()">Ciao<script>alert(1)</script><a href="javascript:alert(2)">qui</a></p>'
    )
    receive_inbound(client, ch, payload)
    message = Message.objects.get()
    assert "script" not in message.html
    assert "onclick" not in message.html
    assert "javascript:" not in message.html
    assert message.text == "Ciaoqui"


def test_the_builder_processes_what_it_posts():
    ch = make_api_channel(make_org())
    answer = customer_writes(ch, "Avete la torta al pistacchio?")
    assert Conversation.objects.get(code=answer["conversation"]).messages.get().code == answer["message"]


# --- refused: a clear 4xx, nothing stored ------------------------------------------------


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
        (
            json.dumps(
                {"external_id": "x", "sender": {"external_id": "c"}, "text": "hi", "sent_at": "2026-11-24T10:00:00"}
            ),
            422,
            "invalid",
        ),
        (
            json.dumps(
                {
                    "external_id": "x",
                    "sender": {"external_id": "c"},
                    "text": "hi",
                    "attachments": [{"filename": "a", "content_base64": "!!!"}],
                }
            ),
            422,
            "invalid",
        ),
        (json.dumps([1, 2]), 422, "invalid"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(client, body, status, error):
    ch = make_api_channel(make_org())
    r = post_inbound(client, ch, body)
    assert r.status_code == status, r.content
    assert r.json()["error"] == error
    assert r.json()["message"]
    assert InboundEvent.objects.count() == 0
    assert Message.objects.count() == 0
    assert Contact.objects.count() == 0


def test_a_missing_field_is_named(client):
    ch = make_api_channel(make_org())
    r = post_inbound(client, ch, {"external_id": "x", "text": "hi"})
    assert r.status_code == 422
    assert r.json()["details"] == [{"field": "sender", "message": "Field required"}]


def test_oversized_attachment_is_refused(client, settings):
    settings.ADESSO_MAX_ATTACHMENT_BYTES = 1000
    ch = make_api_channel(make_org())
    payload = inbound_payload(
        attachments=[{"filename": "big.bin", "content_base64": base64.b64encode(b"x" * 1001).decode()}]
    )
    r = post_inbound(client, ch, payload)
    assert r.status_code == 422
    assert "limit" in r.json()["message"]
    assert InboundEvent.objects.count() == 0


def test_oversized_body_is_refused(client, settings):
    settings.ADESSO_MAX_BODY_BYTES = 2000
    ch = make_api_channel(make_org())
    r = post_inbound(client, ch, inbound_payload(text="x" * 3000))
    assert r.status_code == 413
    assert r.json()["error"] == "too_large"
    assert InboundEvent.objects.count() == 0


def test_wrong_token_and_unknown_channel(client):
    org = make_org()
    ch = make_api_channel(org)
    other = make_api_channel(make_org("Altra"))
    assert post_inbound(client, ch, inbound_payload(), token="nope").status_code == 401
    # Another channel's valid token does not open this one.
    assert post_inbound(client, ch, inbound_payload(), token=other.token).status_code == 401
    r = client.post(
        "/api/v1/inbound/doesnotexist",
        "{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {ch.token}"},
    )
    assert r.status_code == 404
    assert r.json()["error"] == "unknown_channel"
    r = client.post(ch.url, json.dumps(inbound_payload()), content_type="application/json")
    assert r.status_code == 401
    assert InboundEvent.objects.count() == 0


def test_a_disabled_channel_refuses(client):
    ch = make_api_channel(make_org())
    Channel.objects.filter(pk=ch.channel.pk).update(is_enabled=False, disabled_reason="410 Gone")
    pipeline._channels.clear()  # the web process remembers a channel for up to 5 s

    r = post_inbound(client, ch, inbound_payload())

    assert (r.status_code, r.json()["error"]) == (404, "channel_disabled")
    assert InboundEvent.objects.count() == 0


def test_wrong_content_type(client):
    ch = make_api_channel(make_org())
    r = client.post(
        ch.url,
        "external_id=1",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {ch.token}"},
    )
    assert r.status_code == 415
    assert InboundEvent.objects.count() == 0


# --- the event's state ---------------------------------------------------------------------


def test_an_event_is_read_only_with_its_own_channels_token(client):
    org = make_org()
    ch, sibling = make_api_channel(org, "Sito"), make_api_channel(org, "App")
    foreign = make_api_channel(make_org("Altra"))
    event = post_inbound(client, ch, inbound_payload()).json()["event"]
    sibling_event = post_inbound(client, sibling, inbound_payload()).json()["event"]

    assert event_status(client, ch, event).status_code == 200
    # Another channel's token, even of the same organisation: not this channel's.
    for token in (sibling.token, foreign.token, "nope"):
        r = event_status(client, ch, event, token=token)
        assert (r.status_code, r.json()["error"]) == (401, "unauthorized")
    assert client.get(f"{ch.url}/events/{event}").status_code == 401
    # Another channel's event through this channel (with its own token): unknown here.
    r = event_status(client, ch, sibling_event)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    r = event_status(client, foreign, event)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    assert event_status(client, ch, "doesnotexist").status_code == 404
    r = client.get("/api/v1/inbound/doesnotexist/events/x", headers={"Authorization": f"Bearer {ch.token}"})
    assert (r.status_code, r.json()["error"]) == (404, "unknown_channel")


def test_a_failure_is_told_and_retried_until_processed(client, settings, tmp_path):
    # Where files are stored is not writable (a full or read-only disk): the message
    # with a file fails, is tried again later, and succeeds once the disk is back.
    ch = make_api_channel(make_org())
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    settings.MEDIA_ROOT = blocked
    payload = inbound_payload(
        attachments=[{"filename": "scontrino.txt", "content_base64": base64.b64encode(b"12,50").decode()}]
    )
    answer = post_inbound(client, ch, payload).json()

    do_process_events()

    status = event_status(client, ch, answer["event"]).json()
    assert status["state"] == "failed"
    assert status["conversation"] is None
    assert status["message"] == answer["message"]
    assert status["error"]
    assert Message.objects.count() == 0

    settings.MEDIA_ROOT = tmp_path / "media"
    do_process_events(timezone.now() + dt.timedelta(seconds=RETRY_DELAYS[0] + 1))

    status = event_status(client, ch, answer["event"]).json()
    assert (status["state"], status["error"]) == ("processed", None)
    assert Message.objects.get().code == answer["message"]
    assert status["conversation"] == Message.objects.get().conversation.code


def test_an_event_that_can_never_be_processed_is_quarantined_and_replayed(client, settings):
    # Accepted under one size limit, processed after an admin lowered it: it cannot
    # become a message as it is, so it waits in quarantine with the reason.
    ch = make_api_channel(make_org())
    payload = inbound_payload(
        attachments=[{"filename": "foto.jpg", "content_base64": base64.b64encode(b"x" * 2000).decode()}]
    )
    answer = post_inbound(client, ch, payload).json()
    settings.ADESSO_MAX_ATTACHMENT_BYTES = 1000

    do_process_events()

    status = event_status(client, ch, answer["event"]).json()
    assert status["state"] == "quarantined"
    assert "limit is 1000" in status["error"]
    assert Message.objects.count() == 0

    settings.ADESSO_MAX_ATTACHMENT_BYTES = 10_000
    do_replay_event(InboundEvent.objects.get(code=answer["event"]))
    do_process_events()

    status = event_status(client, ch, answer["event"]).json()
    assert status["state"] == "processed"
    assert Message.objects.get().code == answer["message"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_messages_of_one_contact_open_one_conversation():
    # A returning customer whose conversation was resolved writes several messages
    # at once: they all land in one new conversation (on PostgreSQL the contact's
    # row lock queues them; on SQLite the write lock does). Here the task queue runs
    # inline, so each request's commit starts a worker: six workers at once.
    ch = make_api_channel(make_org())
    first = customer_writes(ch, sender_id="c-race")
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
    do_process_events()
    assert statuses == [202] * 6
    assert Conversation.objects.filter(status="open").count() == 1
    assert Message.objects.filter(conversation__status="open").count() == 6


# --- the configuration form ------------------------------------------------------------------


def test_the_configuration_form_gives_the_kinds_config():
    form = ApiConfigForm(data={"webhook_url": "https://crm.pasticceria.example/hooks/adesso"})
    assert form.is_valid(), form.errors
    assert ApiChannelConfig.model_validate(form.config()).webhook_url is not None
    empty = ApiConfigForm(data={"webhook_url": ""})
    assert empty.is_valid() and empty.config() == {"webhook_url": None}
    for wrong in ("ftp://crm.example/hook", "javascript:alert(1)", "not a url"):
        refused = ApiConfigForm(data={"webhook_url": wrong})
        assert not refused.is_valid() and refused.errors["webhook_url"], wrong

    ch = make_api_channel(make_org())
    html = get_template("api_channel/_config.html").render({"form": empty, "channel": ch.channel})
    assert ch.channel.inbound_url in html and ch.channel.inbound_url.endswith(ch.url)
    assert ch.token not in html


def test_only_post_is_accepted_on_the_inbound_address(client):
    ch = make_api_channel(make_org())

    for method in (client.get, client.put, client.delete):
        r = method(f"/api/v1/inbound/{ch.channel.code}")
        assert r.status_code == 405
        assert r["Allow"] == "POST"
    assert not InboundEvent.objects.exists()
