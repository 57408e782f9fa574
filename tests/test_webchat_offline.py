"""Web chat with nobody online (issue 11, acceptance 5): the visitor is told honestly
when the answer will come, may leave an email address, and an agent's reply reaches
them by mail once they have left (Django's locmem outbox: the site's mail backend)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core import mail as django_mail

from adesso.accounts.models import Presence
from adesso.channels.models import Channel
from adesso.contacts.models import Contact, ContactIdentity
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation
from tests.builders import make_agent, make_org
from tests.test_webchat import SHOP, Visitor, connect

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Adesso <chat@adesso.example>"
    django_mail.outbox = []
    return django_mail.outbox


def leave(visitor: Visitor, email: Any, origin: str | None = None) -> Any:
    headers = {"Origin": origin or visitor.origin}
    if visitor.token:
        headers["Authorization"] = f"Bearer {visitor.token}"
    return visitor.client.post(
        f"/chat/{visitor.channel.code}/contact",
        json.dumps({"email": email}),
        content_type="application/json",
        headers=headers,
    )


def started(run: Any, org: Any, text: str = "Buongiorno, avete la torta senza glutine?") -> tuple[Channel, Visitor]:
    channel, _secret = connect(org)
    mario = Visitor(channel)
    assert mario.start().status_code == 200
    assert run(mario.write, text, "e1").status_code == 202
    return channel, mario


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Buongiorno, avete la torta senza glutine per sabato?",
            "In questo momento nessuno del team è in linea: ti risponderemo entro 1 ora (verso le ",
        ),
        (
            "Good morning, do you have a gluten free cake for Saturday?",
            "Nobody from our team is online right now: we will answer within 1 hour (by about ",
        ),
    ],
)
def test_with_nobody_online_the_visitor_is_told_when_the_answer_will_come(run, text, expected):
    org = make_org(ack=True)
    _channel, mario = started(run, org, text)

    _mine, ack = mario.read().json()["messages"]

    assert ack["auto"] is True
    assert ack["offline"].startswith(expected), ack["offline"]
    assert ("Lasciaci la tua email" in ack["offline"]) or ("Leave your email address" in ack["offline"])


def test_with_an_agent_online_there_is_no_offline_note(run):
    org = make_org(ack=True)
    agent = make_agent(org, "Giulia Verdi")
    type(agent).objects.filter(pk=agent.pk).update(presence=Presence.ONLINE)
    _channel, mario = started(run, org)

    _mine, ack = mario.read().json()["messages"]

    assert ack["auto"] is True and "entro" in ack["text"]
    assert ack["offline"] == ""


def test_the_visitor_leaves_an_email_that_becomes_an_identity_of_their_contact(run):
    org = make_org(ack=True)
    _channel, mario = started(run, org)

    r = leave(mario, "  Mario.Rossi@Example.com ")

    assert r.status_code == 200, r.content
    assert r["Access-Control-Allow-Origin"] == SHOP
    assert r.json() == {"email": "mario.rossi@example.com"}
    contact = Conversation.objects.get().contact
    assert contact.email == "mario.rossi@example.com"
    assert set(ContactIdentity.objects.filter(contact=contact).values_list("kind", flat=True)) == {"webchat", "email"}


@pytest.mark.parametrize("bad", ["", "mario", "mario@", "mario@@example.com", "a b@example.com", 42, None, "x" * 300])
def test_a_bad_email_is_422_and_nothing_is_stored(run, bad):
    org = make_org(ack=True)
    _channel, mario = started(run, org)

    r = leave(mario, bad)

    assert r.status_code == 422, r.content
    assert r.json()["error"] == "invalid_email"
    assert not ContactIdentity.objects.filter(kind="email").exists()
    assert Conversation.objects.get().contact.email == ""


def test_the_email_form_refuses_a_foreign_origin_a_missing_token_and_a_flood(run):
    org = make_org(ack=True)
    channel, mario = started(run, org)

    foreign = leave(mario, "mario@example.com", origin="https://evil.example")
    stranger = Visitor(channel, ip="203.0.113.9")
    no_token = leave(stranger, "mario@example.com")
    stranger.start()
    no_conversation = leave(stranger, "luca@example.com")
    flood = [leave(mario, f"mario{i}@example") for i in range(6)]

    assert foreign.status_code == 403
    assert no_token.status_code == 401
    assert no_conversation.status_code == 409
    assert [r.status_code for r in flood] == [422] * 5 + [429]
    assert not ContactIdentity.objects.filter(kind="email").exists()


def test_an_address_of_another_customer_is_not_merged_but_gets_this_answer(run):
    org = make_org(ack=True)
    other = Contact.objects.create(organization=org, name="Luca Bianchi", email="luca@example.com")
    ContactIdentity.objects.create(organization=org, contact=other, kind="email", value="luca@example.com")
    _channel, mario = started(run, org)

    assert leave(mario, "luca@example.com").status_code == 200

    contact = Conversation.objects.get().contact
    assert contact != other and contact.email == "luca@example.com"
    assert ContactIdentity.objects.get(kind="email").contact == other
    assert mario.read().json()["messages"][0]["text"].startswith("Buongiorno")


def test_the_reply_is_mailed_when_the_visitor_has_left(run, settings, outbox):
    settings.ADESSO_WEBCHAT_AWAY_SECONDS = 1
    org = make_org(ack=True)
    _channel, mario = started(run, org)
    mario.read()
    assert leave(mario, "mario.rossi@example.com").status_code == 200
    conversation = Conversation.objects.get()
    time.sleep(1.1)  # no window has looked for longer than the away limit

    reply = run(do_send_reply, make_agent(org, "Giulia Verdi"), conversation, "Sì, anche senza lattosio.")

    (sent,) = outbox
    assert sent.to == ["mario.rossi@example.com"]
    assert f"[#{conversation.code}]" in sent.subject
    assert sent.body == "Sì, anche senza lattosio."
    assert sent.from_email == "Chat del sito <chat@adesso.example>"
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    # The widget still has it when the visitor comes back.
    assert mario.read().json()["messages"][-1]["text"] == "Sì, anche senza lattosio."


def test_the_reply_is_not_mailed_while_the_visitor_is_there(run, settings, outbox):
    settings.ADESSO_WEBCHAT_AWAY_SECONDS = 60
    org = make_org(ack=True)
    _channel, mario = started(run, org)
    assert leave(mario, "mario.rossi@example.com").status_code == 200
    mario.read()  # the window looked just now

    run(do_send_reply, make_agent(org, "Giulia Verdi"), Conversation.objects.get(), "Sì, anche senza lattosio.")

    assert outbox == []


def test_the_reply_is_not_mailed_without_an_address_nor_is_a_note(run, settings, outbox):
    settings.ADESSO_WEBCHAT_AWAY_SECONDS = 1
    org = make_org(ack=True)
    _channel, _mario = started(run, org)
    conversation = Conversation.objects.get()
    time.sleep(1.1)

    run(do_send_reply, make_agent(org), conversation, "Risposta")
    Contact.objects.filter(pk=conversation.contact_id).update(email="mario@example.com")
    run(do_send_reply, make_agent(org), conversation, "nota interna", internal=True)

    assert outbox == []


def test_the_reply_to_is_the_organisations_email_channel_with_the_conversation_code(run, settings, outbox):
    settings.ADESSO_WEBCHAT_AWAY_SECONDS = 1
    org = make_org(ack=True)
    Channel.objects.create(
        organization=org,
        kind="email",
        name="Assistenza",
        config={"address": "assistenza@rossi.example", "from_name": "Pasticceria Rossi"},
    )
    _channel, mario = started(run, org)
    assert leave(mario, "mario.rossi@example.com").status_code == 200
    conversation = Conversation.objects.get()
    time.sleep(1.1)

    run(do_send_reply, make_agent(org), conversation, "Eccoci")

    (sent,) = outbox
    assert sent.reply_to == [f"Pasticceria Rossi <assistenza+{conversation.code}@rossi.example>"]


@pytest.mark.django_db(transaction=True)
def test_an_open_socket_keeps_the_reply_in_the_chat_and_a_closed_one_sends_it_by_mail(settings, outbox):
    from asgiref.sync import async_to_sync
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from adesso.asgi import application
    from adesso.channels.actions import do_create_channel
    from adesso.channels.pipeline import do_process_events

    settings.ADESSO_WEBCHAT_AWAY_SECONDS = 1
    org = make_org(ack=True)
    channel, _ = do_create_channel(org, "webchat", "Chat", {"allowed_origins": [SHOP]})
    mario = Visitor(channel)
    mario.start()
    assert mario.write("Buongiorno", "e1").status_code == 202
    do_process_events()
    assert leave(mario, "mario.rossi@example.com").status_code == 200
    conversation = Conversation.objects.get()
    giulia = make_agent(org, "Giulia Verdi")

    async def scenario() -> None:
        socket = WebsocketCommunicator(application, f"/chat/ws/{channel.code}/", headers=[(b"origin", SHOP.encode())])
        connected, _ = await socket.connect()
        assert connected
        await socket.send_json_to({"token": mario.token, "after": 0})
        await socket.receive_json_from(timeout=5)
        await socket.receive_nothing(timeout=1.6)  # longer than the away limit, the window open
        await database_sync_to_async(do_send_reply)(giulia, conversation, "Sì, eccoci.")
        heard = await socket.receive_json_from(timeout=5)
        assert [m["text"] for m in heard["messages"]] == ["Sì, eccoci."]
        await socket.disconnect()

    async_to_sync(scenario)()
    assert outbox == []

    time.sleep(1.1)  # the window closed longer ago than the away limit
    do_send_reply(giulia, conversation, "Le scrivo anche qui.")

    (sent,) = outbox
    assert (sent.to, sent.body) == (["mario.rossi@example.com"], "Le scrivo anche qui.")


def test_the_customers_answer_to_the_mailed_reply_continues_the_chat_conversation(run, settings, outbox):
    from adesso.channels.actions import do_create_channel
    from adesso.conversations.models import Message
    from tests.support.mailintake import prove_sender, receive_mail
    from tests.support.mailservers import compose

    settings.ADESSO_WEBCHAT_AWAY_SECONDS = 1
    org = make_org(ack=True)
    desk, _ = do_create_channel(org, "email", "Assistenza", {"address": "assistenza@rossi.example"})
    prove_sender(desk)
    outbox.clear()  # the proof of the new address
    _channel, mario = started(run, org)
    assert leave(mario, "mario.rossi@example.com").status_code == 200
    conversation = Conversation.objects.get()
    time.sleep(1.1)
    run(do_send_reply, make_agent(org, "Giulia Verdi"), conversation, "Sì, anche senza lattosio.")
    (sent,) = outbox

    answer = compose(
        subject=sent.subject,
        text="Perfetto, ne prendo una per sabato.",
        sender="Mario Rossi <mario.rossi@example.com>",
        to=sent.reply_to[0],
    )
    outcome = run(receive_mail, desk, answer)

    assert outcome.status == "stored", outcome
    assert Conversation.objects.count() == 1
    got = Message.objects.get(text__startswith="Perfetto")
    assert got.conversation_id == conversation.pk
    assert got.channel_id == desk.pk
    # The conversation stays the chat's: the next reply reaches the widget, and the
    # mail while the visitor is away.
    conversation.refresh_from_db()
    assert conversation.channel_id == _channel.pk


def test_a_strangers_mail_with_the_code_does_not_join_the_chat(run, settings, outbox):
    from adesso.channels.actions import do_create_channel
    from tests.support.mailintake import receive_mail
    from tests.support.mailservers import compose

    org = make_org(ack=True)
    desk, _ = do_create_channel(org, "email", "Assistenza", {"address": "assistenza@rossi.example"})
    _channel, mario = started(run, org)
    assert leave(mario, "mario.rossi@example.com").status_code == 200
    conversation = Conversation.objects.get()

    run(receive_mail, desk, compose(subject=f"Re: [#{conversation.code}]", sender="eve@evil.example"))

    assert Conversation.objects.count() == 2
    conversation.refresh_from_db()
    assert conversation.channel_id == _channel.pk


def test_a_visitor_seen_by_one_process_is_not_away_for_another(settings, tmp_path):
    """`make run` has separate web, live and worker processes and no Redis: the worker
    must see what the web process marked (the `shared` cache), or it mails every reply."""
    import subprocess
    import sys

    from django.core.cache import caches

    from adesso.channels.webchat import offline

    location = caches["shared"]._dir  # type: ignore[attr-defined]
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'adesso.settings'; django.setup(); "
        "from django.core.cache import caches; assert caches['shared']._dir == os.environ['LOC']; "
        "from adesso.channels.webchat.offline import mark_seen; mark_seen(987654, 'v_elsewhere')"
    )
    env = {**__import__("os").environ, "LOC": location}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)

    class Far:
        pk = 987654

    assert not offline.is_away(Far(), ["v_elsewhere"])  # type: ignore[arg-type]
    assert offline.is_away(Far(), ["v_never_seen"])  # type: ignore[arg-type]
