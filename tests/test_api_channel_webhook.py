"""Replies on an `api` channel POSTed, signed, to the client's webhook, through the outbox.

The webhook is a real HTTP server on 127.0.0.1 that answers from a script.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from adesso.channels.actions import do_create_channel
from adesso.channels.models import Channel
from adesso.channels.pipeline import do_process_events
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent, Message
from adesso.outbox.actions import do_retry_due_deliveries
from adesso.outbox.models import Delivery
from adesso.outbox.tasks import deliver
from tests.builders import ApiChannel, inbound_payload, make_agent, make_org, post_inbound, receive_inbound

pytestmark = pytest.mark.django_db


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Webhook:
    """The client system's endpoint: records every request, answers from `script`
    (status, seconds to wait before answering, body), then 200."""

    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    script: list[tuple[int, float, bytes, dict[str, str]]] = field(default_factory=list)

    def answer(self, status: int, delay: float = 0.0, body: bytes = b"", **headers: str) -> None:
        self.script.append((status, delay, body, headers))


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        hook: Webhook = self.server.hook
        body = self.rfile.read(int(self.headers["Content-Length"]))
        hook.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        status, delay, reply, headers = hook.script.pop(0) if hook.script else (200, 0.0, b'{"id": "client-msg-1"}', {})
        time.sleep(delay)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except OSError:
            pass  # the client gave up waiting

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.hook = Webhook(url=f"http://127.0.0.1:{server.server_port}/hooks/adesso")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.hook
    server.shutdown()
    server.server_close()


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """An agent's reply, with the after-commit work (the outbox job) run as in production."""

    def send(agent, conversation, text="Il rimborso è partito oggi."):
        with django_capture_on_commit_callbacks(execute=True):
            return do_send_reply(agent, conversation, text)

    return send


@pytest.fixture
def timer(django_capture_on_commit_callbacks):
    def tick(now):
        with django_capture_on_commit_callbacks(execute=True):
            return do_retry_due_deliveries(now)

    return tick


def customer_conversation(client, url: str | None, sender_id: str = "cust-42"):
    org = make_org()
    channel, token = do_create_channel(org, "api", "App", {"webhook_url": url} if url else {})
    answer = receive_inbound(client, ApiChannel(channel, token), inbound_payload(sender_id=sender_id))
    return make_agent(org), Conversation.objects.get(code=answer["conversation"]), channel


def expected_signature(channel: Channel, body: bytes) -> str:
    secret = Channel.objects.get(pk=channel.pk).config["signing_secret"]
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_reply_reaches_the_webhook_signed(client, webhook, send):
    agent, conversation, channel = customer_conversation(client, webhook.url)
    message = send(agent, conversation, "Il rimborso è partito oggi.")
    [hit] = webhook.hits
    assert hit.path == "/hooks/adesso"
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["x-adesso-signature"] == expected_signature(channel, hit.body)
    assert abs(int(hit.headers["x-adesso-timestamp"]) - time.time()) < 60
    assert hit.headers["idempotency-key"] == message.code
    assert hit.json() == {
        "event": "message.created",
        "channel": channel.code,
        "conversation": conversation.code,
        "message": message.code,
        "text": "Il rimborso è partito oggi.",
        "created_at": message.created_at.isoformat(),
        "recipient": {"external_id": "cust-42"},
    }
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.attempts, delivery.provider_message_id) == ("sent", 1, "client-msg-1")
    assert delivery.next_attempt_at is None
    assert Message.objects.get(pk=message.pk).delivery_status == "sent"


def test_the_signing_secret_is_kept_out_of_reprs(client, webhook):
    from adesso.channels.api.adapter import ApiChannelConfig

    _, _, channel = customer_conversation(client, webhook.url)
    secret = channel.config["signing_secret"]
    assert len(secret) >= 32
    assert secret not in repr(ApiChannelConfig.model_validate(channel.config))


def test_a_500_then_200_is_retried_and_delivered_once(client, webhook, send, timer):
    agent, conversation, _ = customer_conversation(client, webhook.url)
    webhook.answer(500, body=b"database down")
    before = timezone.now()
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    assert delivery.last_error == "The webhook answered 500"  # never the body (SSRF)
    assert before + dt.timedelta(seconds=23) < delivery.next_attempt_at < before + dt.timedelta(seconds=37)
    assert Message.objects.get(pk=message.pk).delivery_status == "pending"

    assert timer(timezone.now()) == 0  # not due yet
    assert len(webhook.hits) == 1
    assert timer(timezone.now() + dt.timedelta(minutes=1)) == 1
    assert timer(timezone.now() + dt.timedelta(hours=2)) == 0

    assert len(webhook.hits) == 2
    assert webhook.hits[0].body == webhook.hits[1].body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert Message.objects.get(pk=message.pk).delivery_status == "sent"
    assert not ConversationEvent.objects.filter(kind="delivery_failed").exists()


def test_a_timeout_after_sending_is_unknown_then_retried_with_the_same_key(client, webhook, send, timer, settings):
    settings.ADESSO_WEBHOOK_TIMEOUT = 0.3
    agent, conversation, _ = customer_conversation(client, webhook.url)
    webhook.answer(200, delay=1.5)  # the client got it, but answers too late
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == "unknown"
    assert "ReadTimeout" in delivery.last_error
    # The webhook honours Idempotency-Key, so trying again is safe: it is scheduled.
    assert delivery.next_attempt_at is not None
    assert Message.objects.get(pk=message.pk).delivery_status == "unknown"

    assert timer(timezone.now() + dt.timedelta(minutes=1)) == 1
    assert [h.headers["idempotency-key"] for h in webhook.hits] == [message.code, message.code]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert Message.objects.get(pk=message.pk).delivery_status == "sent"


def test_a_4xx_fails_the_message_with_an_event(client, webhook, send, timer):
    agent, conversation, channel = customer_conversation(client, webhook.url)
    webhook.answer(422, body=b'{"error": "unknown user cust-42"}')
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.next_attempt_at) == ("failed", None)
    assert Message.objects.get(pk=message.pk).delivery_status == "failed"
    event = ConversationEvent.objects.get(conversation=conversation, kind="delivery_failed")
    assert event.data == {
        "message": message.code,
        "attempts": 1,
        "error": "The webhook answered 422",
    }
    assert Channel.objects.get(pk=channel.pk).is_enabled
    assert timer(timezone.now() + dt.timedelta(days=2)) == 0
    assert len(webhook.hits) == 1


def test_410_gone_disables_the_channel_with_a_reason(client, webhook, send):
    agent, conversation, channel = customer_conversation(client, webhook.url)
    webhook.answer(410)
    first = send(agent, conversation)
    channel.refresh_from_db()
    assert channel.is_enabled is False
    assert "410" in channel.disabled_reason
    event = ConversationEvent.objects.get(kind="delivery_failed", data__message=first.code)
    assert event.data["channel_disabled"] == channel.code

    second = send(agent, conversation, "Ci siete?")
    assert len(webhook.hits) == 1  # nothing more is sent on a disabled channel
    delivery = Delivery.objects.get(message=second)
    assert delivery.status == "failed"
    assert "disabled" in delivery.last_error
    assert Message.objects.get(pk=second.pk).delivery_status == "failed"


def test_a_job_delivered_twice_sends_once(client, webhook, send):
    agent, conversation, _ = customer_conversation(client, webhook.url)
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert deliver.enqueue(delivery.pk).return_value == "skipped"
    assert len(webhook.hits) == 1
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1


def test_a_stale_job_does_not_jump_the_backoff(client, webhook, send):
    agent, conversation, _ = customer_conversation(client, webhook.url)
    webhook.answer(503)
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert deliver.enqueue(delivery.pk).return_value == "skipped"
    assert len(webhook.hits) == 1
    assert Delivery.objects.get(pk=delivery.pk).status == "queued"


def test_429_waits_as_long_as_retry_after_says(client, webhook, send):
    agent, conversation, _ = customer_conversation(client, webhook.url)
    webhook.answer(429, Retry_After="600")
    before = timezone.now()
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == "queued"
    assert delivery.next_attempt_at >= before + dt.timedelta(seconds=600)


def test_connection_refused_is_retried(client, send):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    agent, conversation, _ = customer_conversation(client, f"http://127.0.0.1:{port}/hook")
    message = send(agent, conversation)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == "queued"
    assert delivery.last_error == "Could not connect to the webhook (ConnectError)"
    assert Message.objects.get(pk=message.pk).delivery_status == "pending"


def test_without_a_webhook_the_reply_is_sent_at_once(client, send):
    agent, conversation, _ = customer_conversation(client, None)
    message = send(agent, conversation)
    assert Delivery.objects.get(message=message).status == "sent"
    assert Message.objects.get(pk=message.pk).delivery_status == "sent"


def test_a_channel_created_before_signing_gets_a_secret_on_first_use(client, webhook, send):
    agent, conversation, channel = customer_conversation(client, webhook.url)
    Channel.objects.filter(pk=channel.pk).update(config={"webhook_url": webhook.url})
    send(agent, conversation)
    [hit] = webhook.hits
    assert Channel.objects.get(pk=channel.pk).config["signing_secret"]
    assert hit.headers["x-adesso-signature"] == expected_signature(channel, hit.body)


def test_the_acknowledgement_names_the_conversation_the_events_endpoint_names(
    client, webhook, django_capture_on_commit_callbacks
):
    # The client learns the conversation of what it posted (202: only the event and the
    # message) from the events endpoint, and from the first webhook call about it.
    org = make_org(ack=True)
    channel, token = do_create_channel(org, "api", "App", {"webhook_url": webhook.url})
    ch = ApiChannel(channel, token)
    accepted = post_inbound(client, ch, inbound_payload(sender_id="cust-42")).json()
    assert webhook.hits == []

    with django_capture_on_commit_callbacks(execute=True):  # the worker, then the outbox's job
        do_process_events()

    status = client.get(f"{ch.url}/events/{accepted['event']}", headers={"Authorization": f"Bearer {token}"}).json()
    [hit] = webhook.hits
    assert hit.json()["event"] == "message.created"
    assert (
        hit.json()["conversation"]
        == status["conversation"]
        == Message.objects.get(code=accepted["message"]).conversation.code
    )
    assert hit.json()["recipient"] == {"external_id": "cust-42"}
    assert hit.headers["x-adesso-signature"] == expected_signature(channel, hit.body)
