"""Sending in bulk (session 7, issue 10's speed): a batch's acknowledgements are claimed and
recorded by chunks over one pooled, kept-alive connection; each is still sent once, a
failure is still its own, and a provider's `retry_after` is honoured (about that long,
not the schedule's 24-36 s).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from django.utils import timezone
from pydantic import BaseModel

from adesso.channels import registry
from adesso.channels.actions import do_create_channel
from adesso.channels.base import ChannelKind, RecipientUnreachable, TemporaryDeliveryError
from adesso.channels.models import Channel
from adesso.contacts.models import Contact, ContactIdentity
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent, Message
from adesso.outbox import actions
from adesso.outbox.actions import do_deliver_many, do_retry_due_deliveries
from adesso.outbox.models import Delivery
from tests import test_telegram
from tests.builders import ApiChannel, inbound_payload, make_agent, make_org, receive_inbound
from tests.test_telegram import connect, post, update

bot = test_telegram.bot
run = test_telegram.run

pytestmark = pytest.mark.django_db


# -- a webhook that keeps connections alive, counting them ---------------------------------


class _KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.messages.append(body["message"])
        reply = json.dumps({"id": f"client-{len(self.server.messages)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def keepalive_webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.daemon_threads = True
    server.connections, server.messages = 0, []
    server.url = f"http://127.0.0.1:{server.server_port}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def queued_replies(client, url: str, count: int) -> list[Delivery]:
    """`count` replies on an API channel, queued and dispatched but not yet sent."""
    org = make_org()
    channel, token = do_create_channel(org, "api", "App", {"webhook_url": url})
    agent = make_agent(org)
    out = []
    for n in range(count):
        answer = receive_inbound(client, ApiChannel(channel, token), inbound_payload(sender_id=f"cust-{n}"))
        reply = do_send_reply(agent, Conversation.objects.get(code=answer["conversation"]), f"Risposta {n}")
        out.append(Delivery.objects.get(message=reply))
    return out


def test_a_batch_of_sends_shares_one_connection_and_each_is_sent_once(client, keepalive_webhook):
    deliveries = queued_replies(client, keepalive_webhook.url, 5)
    ids = [d.pk for d in deliveries]

    assert do_deliver_many(ids) == 5
    assert do_deliver_many(ids) == 0  # a duplicate job: nothing is claimed, nothing sent again

    assert keepalive_webhook.connections == 1
    assert sorted(keepalive_webhook.messages) == sorted(d.message.code for d in deliveries)
    rows = Delivery.objects.filter(pk__in=ids).order_by("pk")
    assert [(d.status, d.attempts, d.dispatched_at, d.next_attempt_at) for d in rows] == [("sent", 1, None, None)] * 5
    assert all(d.sent_at is not None and d.provider_message_id.startswith("client-") for d in rows)
    assert set(
        Message.objects.filter(pk__in=[d.message_id for d in deliveries]).values_list("delivery_status", flat=True)
    ) == {"sent"}


def test_the_pooled_client_still_refuses_internal_addresses(client, keepalive_webhook, settings):
    """A connection kept alive while loopback was allowed is not reused once it is not."""
    [first] = queued_replies(client, keepalive_webhook.url, 1)
    assert do_deliver_many([first.pk]) == 1
    [second] = queued_replies(client, keepalive_webhook.url, 1)

    settings.ADESSO_OUTBOUND_ALLOW = []
    assert do_deliver_many([second.pk]) == 0

    second.refresh_from_db()
    assert second.status == "failed" and "private or reserved" in second.last_error
    assert len(keepalive_webhook.messages) == 1


# -- mixed outcomes in one chunk: a scripted kind -------------------------------------------


class Scripted(ChannelKind):
    kind = "scripted"
    label = "Scripted"
    identity_kind = "scripted"
    config_schema = BaseModel
    script: ClassVar[dict[str, Any]] = {}
    sent: ClassVar[list[str]] = []

    def send(self, channel, message):
        self.sent.append(message.text)
        outcome = self.script.get(message.text, f"id-{message.text}")
        if callable(outcome):
            outcome = outcome(message)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def scripted(monkeypatch):
    monkeypatch.setitem(registry.KINDS, "scripted", "tests.test_outbox_sends.Scripted")
    monkeypatch.setattr(Scripted, "script", {})
    monkeypatch.setattr(Scripted, "sent", [])
    registry.get_kind.cache_clear()
    yield Scripted
    registry.get_kind.cache_clear()


def scripted_deliveries(*texts: str) -> list[Delivery]:
    org = make_org()
    channel = Channel.objects.create(organization=org, kind="scripted", name="Scripted")
    agent = make_agent(org)
    out = []
    for n, text in enumerate(texts):
        contact = Contact.objects.create(organization=org, name=f"Cliente {n}")
        ContactIdentity.objects.create(organization=org, contact=contact, kind="scripted", value=f"c{n}")
        conversation = Conversation.objects.create(organization=org, channel=channel, contact=contact)
        out.append(Delivery.objects.get(message=do_send_reply(agent, conversation, text)))
    return out


def test_each_send_of_a_chunk_has_its_own_outcome(scripted):
    scripted.script = {
        "b": TemporaryDeliveryError("Too Many Requests", retry_after=2),
        "c": RecipientUnreachable("blocked", "scripted", "c2"),
    }
    a, b, c, d = scripted_deliveries("a", "b", "c", "d")

    assert do_deliver_many([a.pk, b.pk, c.pk, d.pk]) == 2

    assert scripted.sent == ["a", "b", "c", "d"]
    state = {x.message.text: x for x in Delivery.objects.select_related("message")}
    assert (state["a"].status, state["a"].provider_message_id) == ("sent", "id-a")
    assert (state["d"].status, state["d"].provider_message_id) == ("sent", "id-d")
    assert state["b"].status == "queued"
    wait = (state["b"].next_attempt_at - state["b"].updated_at).total_seconds()
    assert 2 <= wait <= 3.05
    assert state["c"].status == "failed" and state["c"].message.delivery_status == "failed"
    assert ContactIdentity.objects.get(value="c2").unreachable_at is not None
    assert ConversationEvent.objects.filter(kind="delivery_failed").count() == 1


def test_a_channel_disabled_by_one_send_stops_the_rest_of_the_chunk(scripted):
    from adesso.channels.base import PermanentChannelError

    scripted.script = {"a": PermanentChannelError("The token was revoked")}
    a, b, c = scripted_deliveries("a", "b", "c")

    assert do_deliver_many([a.pk, b.pk, c.pk]) == 0

    assert scripted.sent == ["a"]
    rows = {x.message.text: x for x in Delivery.objects.select_related("message")}
    assert {rows[t].status for t in "abc"} == {"failed"}
    assert "The channel is disabled" in rows["b"].last_error and "revoked" in rows["b"].last_error
    assert not Channel.objects.get().is_enabled


def test_a_row_taken_meanwhile_keeps_the_other_workers_verdict(scripted):
    """The lease of one row ran out and the timer recorded it unknown, and it was tried
    again elsewhere (attempts moved on): the chunk's late success does not overwrite it,
    and the others are recorded all the same."""
    a, b = scripted_deliveries("a", "b")

    def meanwhile(message):
        Delivery.objects.filter(pk=a.pk).update(status="failed", attempts=7, last_error="elsewhere")
        return "id-b"

    scripted.script = {"b": meanwhile}
    assert do_deliver_many([a.pk, b.pk]) == 2

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.attempts, a.last_error) == ("failed", 7, "elsewhere")
    assert (b.status, b.provider_message_id, b.message.delivery_status) == ("sent", "id-b", "sent")


def test_rows_a_chunk_cannot_reach_within_the_lease_go_back_to_the_queue(scripted, monkeypatch):
    a, b, c = scripted_deliveries("a", "b", "c")
    clock = iter([0.0, 0.0, 1000.0])  # the chunk starts; "a" goes; then half the lease has passed
    monkeypatch.setattr(actions.time, "monotonic", lambda: next(clock, 1000.0))

    assert do_deliver_many([a.pk, b.pk, c.pk]) == 1

    assert scripted.sent == ["a"]
    rows = {x.message.text: x for x in Delivery.objects.select_related("message")}
    assert rows["a"].status == "sent"
    for text in "bc":
        assert (rows[text].status, rows[text].attempts, rows[text].dispatched_at) == ("queued", 0, None)
        assert rows[text].next_attempt_at <= timezone.now()
    # The timer hands them to a worker again, and they go.
    do_retry_due_deliveries()
    assert do_deliver_many([b.pk, c.pk]) == 2
    assert scripted.sent == ["a", "b", "c"]


# -- Telegram through the pipeline ----------------------------------------------------------

LUCIA = {"id": 222333444, "is_bot": False, "first_name": "Lucia", "language_code": "it"}


def test_acknowledgements_of_a_batch_go_out_and_a_blocked_customer_is_flagged(bot, run):
    org = make_org(ack=True)
    channel = connect(org)
    bot.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    for chat in (test_telegram.MARIO, LUCIA):
        post(channel, update(chat=chat))
    run(test_telegram.do_process_events)

    acks = Delivery.objects.select_related("message__conversation__contact").order_by("pk")
    assert [(d.message.auto, d.status) for d in acks] == [(True, "failed"), (True, "sent")]
    blocked = ContactIdentity.objects.get(kind="telegram", value=str(test_telegram.MARIO["id"]))
    assert blocked.unreachable_at is not None
    assert [c.body["chat_id"] for c in bot.sent("sendMessage")] == ["222333444"]


def test_a_429s_retry_after_is_honoured_not_the_schedule(bot, run):
    """Telegram asks for 2 s: the retry is due 2-3 s later (it was 24-36 s), the timer
    hands it to the worker then, and the reply goes once."""
    org = make_org()
    channel = connect(org)
    run(post, channel, update())
    bot.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)

    reply = run(do_send_reply, make_agent(org), Conversation.objects.get(), "Arriva subito.")

    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "queued"
    wait = delivery.next_attempt_at - delivery.updated_at
    assert dt.timedelta(seconds=2) <= wait <= dt.timedelta(seconds=3.05)
    run(do_retry_due_deliveries, delivery.updated_at + dt.timedelta(seconds=1.5))
    assert bot.sent("sendMessage") == []
    run(do_retry_due_deliveries, delivery.updated_at + dt.timedelta(seconds=3.1))
    assert [c.body["text"] for c in bot.sent("sendMessage")] == ["Arriva subito."]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
