"""The `telegram` kind against a Bot API on 127.0.0.1 (tests/support/telegram_api.py):
connecting a bot, its webhook, intake through the pipeline, replies, errors, polling.

Processing runs as it does in production: the webhook stores the update and enqueues
the worker's task on commit (the tests run the task queue inline and execute the
on-commit callbacks); where a test needs updates to wait, it posts without running them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from adesso.accounts.models import Role
from adesso.channels.actions import do_create_channel
from adesso.channels.models import Channel, InboundEvent
from adesso.channels.pipeline import EDIT_MARK, LEASE, claim, do_process_events, process
from adesso.channels.registry import get_kind
from adesso.contacts.models import ContactIdentity
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent, Direction, Message
from adesso.outbox.actions import do_retry_due_deliveries
from adesso.outbox.models import Delivery
from tests.builders import AgentApi, make_agent, make_org
from tests.support.servers import database_url
from tests.support.telegram_api import BotApi

pytestmark = pytest.mark.django_db

TOKEN = "7301234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
SITE = "https://assistenza.pasticceria.example"
MARIO = {"id": 111222333, "is_bot": False, "first_name": "Mario", "last_name": "Rossi", "username": "mario_rossi"}
_updates = itertools.count(734200000)


@pytest.fixture
def bot(settings):
    api = BotApi(TOKEN)
    settings.ADESSO_TELEGRAM_API_BASE = api.url
    settings.SITE_URL = SITE
    yield api
    api.stop()
    assert api.problems == []


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run what the code leaves for after commit (the pipeline's task, deliveries)."""

    def run(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def connect(org: Any, **config: Any) -> Channel:
    channel, _token = do_create_channel(org, "telegram", "Bot della pasticceria", {"bot_token": TOKEN, **config})
    return channel


def update(
    text: str = "Buongiorno, la torta per sabato è pronta?",
    chat: dict[str, Any] = MARIO,
    update_id: int | None = None,
    message_id: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    uid = update_id or next(_updates)
    message = {
        "message_id": message_id or uid % 100000,
        "from": chat,
        "chat": {**{k: v for k, v in chat.items() if k != "is_bot"}, "type": "private"},
        "date": 1764856800,
        **({"text": text} if text else {}),
        **fields,
    }
    return {"update_id": uid, "message": message}


def post(channel: Channel, body: Any, secret: str | None = None) -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": channel.config["webhook_secret"] if secret is None else secret}
    return Client().post(
        f"/channels/telegram/{channel.code}/inbound", json.dumps(body), content_type="application/json", headers=headers
    )


def texts(conversation: Conversation, direction: str = Direction.INCOMING) -> list[str]:
    return list(
        conversation.messages.filter(direction=direction).order_by("created_at", "pk").values_list("text", flat=True)
    )


# -- connecting ---------------------------------------------------------------------------


def test_an_admin_connects_a_bot_checked_with_getme_and_registered_with_a_secret(bot):
    org = make_org()
    anna = AgentApi(make_agent(org, "Anna", role=Role.ADMIN))

    r = anna.post("/channels", {"kind": "telegram", "name": "Bot", "config": {"bot_token": TOKEN}})

    assert r.status_code == 201, r.content
    body = r.json()
    channel = Channel.objects.get(code=body["code"])
    assert body["inbound_url"] == f"{SITE}/channels/telegram/{channel.code}/inbound"
    assert bot.methods() == ["getMe", "setWebhook"]
    webhook = bot.calls[1].body
    assert webhook["url"] == body["inbound_url"]
    assert webhook["secret_token"] == channel.config["webhook_secret"]
    assert len(webhook["secret_token"]) >= 32
    assert "message" in webhook["allowed_updates"]
    assert (channel.config["mode"], channel.config["bot_username"]) == ("webhook", "pasticceria_rossi_bot")
    listed = anna.get("/channels").json()[0]
    assert listed["inbound_url"] == body["inbound_url"]
    assert TOKEN not in json.dumps(listed)


def test_a_wrong_token_is_refused_and_nothing_is_stored(bot):
    org = make_org()
    anna = AgentApi(make_agent(org, "Anna", role=Role.ADMIN))

    r = anna.post(
        "/channels",
        {"kind": "telegram", "name": "Bot", "config": {"bot_token": "7301234567:AAHwrongwrongwrongwrongwrongwrong00"}},
    )

    assert r.status_code == 400
    assert r.json()["error"] == "invalid_token"
    assert "getMe" in r.json()["message"]
    assert bot.methods() == ["getMe"]
    assert not Channel.objects.exists()


def test_a_malformed_token_is_refused_before_asking_telegram(bot):
    anna = AgentApi(make_agent(make_org(), "Anna", role=Role.ADMIN))

    r = anna.post("/channels", {"kind": "telegram", "name": "Bot", "config": {"bot_token": "not a token"}})

    assert r.status_code == 400
    assert r.json()["error"] == "invalid_config"
    assert bot.calls == []


def test_without_a_public_https_address_the_bot_polls(bot, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"

    channel = connect(make_org())

    assert channel.config["mode"] == "polling"
    # Telegram refused the plain-http URL: then the bot polls.
    assert bot.methods() == ["getMe", "setWebhook", "deleteWebhook"]


# -- intake -------------------------------------------------------------------------------


def test_a_customers_text_becomes_a_message_and_is_acknowledged_on_telegram(bot, run):
    org = make_org(ack=True)
    channel = connect(org)

    r = run(post, channel, update(update_id=734100001, message_id=41))

    assert r.status_code == 200, r.content
    event = InboundEvent.objects.get()
    assert r.json() == {"event": event.code, "duplicate": False}
    assert (event.state, event.outcome) == ("processed", "message")
    conversation = Conversation.objects.get()
    assert conversation.channel == channel
    assert texts(conversation) == ["Buongiorno, la torta per sabato è pronta?"]
    incoming = conversation.messages.get(direction=Direction.INCOMING)
    assert (incoming.external_id, incoming.code) == ("111222333:41", event.message_code)
    assert conversation.contact.name == "Mario Rossi (@mario_rossi)"
    assert ContactIdentity.objects.get(contact=conversation.contact).value == "111222333"
    [ack] = bot.sent("sendMessage")
    assert ack.body["chat_id"] == "111222333"
    assert ack.body["text"] == texts(conversation, Direction.OUTGOING)[0]
    assert conversation.messages.get(auto=True).delivery_status == "sent"


def test_a_new_user_starting_the_bot_is_answered_in_the_language_of_their_app(bot, run):
    org = make_org(ack=True)
    channel = connect(org)
    lucia = {"id": 222333444, "is_bot": False, "first_name": "Lucia", "language_code": "it"}
    john = {"id": 333444555, "is_bot": False, "first_name": "John", "language_code": "en-GB"}

    run(post, channel, update("/start ordine42", chat=lucia))
    run(post, channel, update("/start", chat=john))

    by_name = {c.contact.name: c for c in Conversation.objects.select_related("contact")}
    assert (by_name["Lucia"].contact.language, by_name["Lucia"].language) == ("it", "it")
    assert (by_name["John"].contact.language, by_name["John"].language) == ("en", "en")
    acks = {m.body["chat_id"]: m.body["text"] for m in bot.sent("sendMessage")}
    assert acks["222333444"] == texts(by_name["Lucia"], Direction.OUTGOING)[0]
    assert "Ciao Lucia" in acks["222333444"] or "Lucia" in acks["222333444"]
    assert any(word in acks["222333444"].lower() for word in ("grazie", "risponder", "minuti"))
    assert any(word in acks["333444555"].lower() for word in ("thank", "answer", "minutes"))


def test_an_agents_reply_becomes_sendmessage_to_the_customers_chat(bot, run):
    org = make_org()
    channel = connect(org)
    run(post, channel, update())
    conversation = Conversation.objects.get()

    reply = run(do_send_reply, make_agent(org), conversation, "Sì, è pronta: la può ritirare dalle 9.")

    [sent] = bot.sent("sendMessage")
    assert sent.body == {"chat_id": "111222333", "text": "Sì, è pronta: la può ritirare dalle 9."}
    delivery = Delivery.objects.get(message=reply)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert delivery.provider_message_id.isdigit()


def test_a_reply_with_a_photo_goes_by_sendphoto_with_the_text_as_caption(bot, run):
    from adesso.conversations.files import OutgoingFile

    org = make_org()
    channel = connect(org)
    run(post, channel, update())
    photo = OutgoingFile("torta.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)

    run(do_send_reply, make_agent(org), Conversation.objects.get(), "Eccola.", attachments=[photo])

    [sent] = bot.sent("sendPhoto")
    assert (sent.body["chat_id"], sent.body["caption"]) == ("111222333", "Eccola.")
    assert sent.files["photo"] == ("torta.png", photo.content)
    assert bot.sent("sendMessage") == []


def test_too_many_requests_waits_retry_after_then_sends_once(bot, run):
    org = make_org()
    channel = connect(org)
    run(post, channel, update())
    bot.fail_next("sendMessage", 429, "Too Many Requests: retry after 40", retry_after=40)

    reply = run(do_send_reply, make_agent(org), Conversation.objects.get(), "Arriva subito.")

    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "queued"
    assert delivery.next_attempt_at - delivery.updated_at > dt.timedelta(seconds=39.9)
    assert bot.sent("sendMessage") == []
    run(do_retry_due_deliveries, timezone.now() + dt.timedelta(seconds=41))
    run(do_retry_due_deliveries, timezone.now() + dt.timedelta(hours=1))
    assert [c.body["text"] for c in bot.sent("sendMessage")] == ["Arriva subito."]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_a_customer_who_blocked_the_bot_fails_the_reply_visibly(bot, run):
    org = make_org()
    channel = connect(org)
    run(post, channel, update())
    bot.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")

    reply = run(do_send_reply, make_agent(org), Conversation.objects.get(), "Ci siamo?")

    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert Delivery.objects.get(message=reply).status == "failed"
    failed = ConversationEvent.objects.get(kind="delivery_failed")
    assert "blocked the bot" in failed.data["error"]
    assert Channel.objects.get(pk=channel.pk).is_enabled


def test_a_revoked_token_disables_the_channel_with_the_reason(bot, run):
    org = make_org()
    channel = connect(org)
    run(post, channel, update())
    bot.fail_next("sendMessage", 401, "Unauthorized")

    run(do_send_reply, make_agent(org), Conversation.objects.get(), "Ci siamo?")

    channel.refresh_from_db()
    assert not channel.is_enabled
    assert "bot token" in channel.disabled_reason


@pytest.mark.parametrize("secret", ["", "wrong-secret-wrong-secret-wrong-secret"])
def test_a_wrong_secret_token_is_refused_and_nothing_is_stored(bot, run, secret):
    channel = connect(make_org())

    r = run(post, channel, update(), secret=secret)

    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert not InboundEvent.objects.exists()
    assert not Message.objects.exists()


def test_the_same_update_delivered_five_times_is_one_message(bot, run):
    channel = connect(make_org())
    same = update()

    answers = [run(post, channel, same) for _ in range(5)]

    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["event"] for a in answers}) == 1
    assert [a.json()["duplicate"] for a in answers] == [False, True, True, True, True]
    assert InboundEvent.objects.count() == 1
    assert Message.objects.count() == 1


def test_one_senders_updates_out_of_order_are_processed_in_order(bot, run):
    channel = connect(make_org())
    first, second, third = (update(f"messaggio {n}", update_id=734300000 + n) for n in (1, 2, 3))

    for body in (third, first, second):  # stored as they come, processed later
        assert post(channel, body).status_code == 200
    run(do_process_events)

    assert texts(Conversation.objects.get()) == ["messaggio 1", "messaggio 2", "messaggio 3"]


def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(bot, run):
    channel = connect(make_org())
    for n in (1, 2, 3):
        post(channel, update(f"messaggio {n}", update_id=734400000 + n))
    dead = claim()
    assert len(dead.events) == 3
    run(process, dead.events[0], dead.lease)  # then the worker is killed

    later = claim(timezone.now() + LEASE + dt.timedelta(seconds=1))  # its lease ran out
    for event in later.events:
        run(process, event, later.lease)
    late = run(process, dead.events[1], dead.lease)  # the dead worker's last gasp

    assert [e.external_id for e in later.events] == ["734400002", "734400003"]
    assert late == "lost"
    assert texts(Conversation.objects.get()) == ["messaggio 1", "messaggio 2", "messaggio 3"]
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {"processed"}


def test_an_edit_is_shown_as_an_edited_message_in_the_same_conversation(bot, run):
    channel = connect(make_org())
    original = update("la torta per sabato", update_id=734500001, message_id=41)
    run(post, channel, original)
    edited = {
        "update_id": 734500002,
        "edited_message": {**original["message"], "edit_date": 1764857400, "text": "la torta per domenica"},
    }

    run(post, channel, edited)

    conversation = Conversation.objects.get()
    assert texts(conversation) == ["la torta per sabato", EDIT_MARK + "la torta per domenica"]
    assert InboundEvent.objects.get(external_id="734500002").outcome == "edit"


def test_a_photo_is_fetched_from_telegram_and_attached(bot, run):
    channel = connect(make_org())
    bot.files["files/AgAC-large"] = b"\xff\xd8\xff\xe0 a cake"
    photo = [
        {"file_id": "AgAC-small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 10},
        {"file_id": "AgAC-large", "file_unique_id": "l", "width": 800, "height": 800, "file_size": 14},
    ]

    run(post, channel, update("", photo=photo, caption="Guardate qui", message_id=77))

    message = Message.objects.get()
    assert message.text == "Guardate qui"
    [attachment] = message.attachments.all()
    assert (attachment.filename, attachment.content_type) == ("photo-77.jpg", "image/jpeg")
    assert attachment.file.read() == b"\xff\xd8\xff\xe0 a cake"
    assert [c.body["file_id"] for c in bot.calls if c.method == "getFile"] == ["AgAC-large"]


def test_a_group_message_is_ignored_with_the_reason(bot, run):
    channel = connect(make_org())
    group = update("Ciao a tutti")
    group["message"]["chat"] = {"id": -100123, "title": "Clienti", "type": "supergroup"}

    run(post, channel, group)

    event = InboundEvent.objects.get()
    assert (event.state, event.outcome) == ("ignored", "ignored")
    assert "groups" in event.note
    assert not Message.objects.exists()


def test_polling_stores_updates_like_the_webhook_and_moves_the_offset(bot, run, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    channel = connect(make_org())
    bot.updates = [update("primo", update_id=734600001), update("secondo", update_id=734600002)]

    run(call_command, "pollchannels")
    bot.updates.append(update("terzo", update_id=734600003))
    run(call_command, "pollchannels")

    assert texts(Conversation.objects.get(channel=channel)) == ["primo", "secondo", "terzo"]
    offsets = [c.body["offset"] for c in bot.calls if c.method == "getUpdates"]
    assert offsets == [1, 734600003]


def test_a_reaction_to_our_reply_is_recorded_on_the_event(bot, run):
    channel = connect(make_org())
    reaction = {
        "update_id": 734700001,
        "message_reaction": {
            "chat": {"id": 111222333, "type": "private"},
            "message_id": 501,
            "user": MARIO,
            "date": 1764857500,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "\U0001f44d"}],
        },
    }

    run(post, channel, reaction)

    event = InboundEvent.objects.get()
    assert (event.state, event.outcome, event.note) == ("processed", "reaction", "reaction \U0001f44d to 111222333:501")
    assert not Message.objects.exists()


def test_the_polling_process_stores_updates_until_stopped(transactional_db, bot, settings, tmp_path):
    settings.SITE_URL = "http://127.0.0.1:8000"
    channel = connect(make_org())
    bot.updates = [update("primo", update_id=734800001)]
    env = {**os.environ, "DATABASE_URL": database_url(), "ADESSO_TESTING": "1", "ADESSO_TELEGRAM_API_BASE": bot.url}
    log = (tmp_path / "pollchannels.log").open("ab")
    poller = subprocess.Popen(
        [sys.executable, "-m", "adesso", "pollchannels", "--loop", "--interval", "0.5", "--timeout", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: InboundEvent.objects.filter(channel=channel).count() == 1, 30)
        bot.updates.append(update("secondo", update_id=734800002))
        wait_for(lambda: InboundEvent.objects.filter(channel=channel).count() == 2, 10)
    finally:
        poller.send_signal(signal.SIGTERM)
        poller.wait(timeout=30)
    do_process_events()

    assert poller.returncode == 0, (tmp_path / "pollchannels.log").read_text()
    assert texts(Conversation.objects.get(channel=channel)) == ["primo", "secondo"]


def wait_for(predicate: Any, timeout: float) -> None:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, f"not within {timeout} s"
        time.sleep(0.05)


def test_an_agent_typing_shows_in_the_customers_chat(bot, run):
    channel = connect(make_org())
    run(post, channel, update())

    get_kind("telegram").send_typing(channel, Conversation.objects.get())

    assert channel.capabilities["typing"]
    [typing] = bot.sent("sendChatAction")
    assert typing.body == {"chat_id": "111222333", "action": "typing"}
