"""Real-world mail shapes (tests/fixtures/email/*.eml, each described in expected.json)
through the real intake, twice: parsed directly (IMAP's path) and posted as raw MIME
bytes through the Mailgun webhook (the providers' path). Each must come out as the
kind it is (a customer's message, an automatic mail, a bounce attached to the reply
it concerns, a delivery report, a quarantined mail) and, for a customer's message,
with the visible text the agent must read: the customer's words, in the right
characters, without quoted history or signature."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adesso.channels.actions import do_create_channel
from adesso.channels.email.models import Mail
from adesso.channels.email.quote import strip_reply
from adesso.channels.models import InboundEvent
from adesso.conversations.models import Message
from tests.builders import make_org
from tests.support.mailintake import outcome_of, process_mail, receive_mail
from tests.support.mailservers import compose
from tests.test_email_webhooks import SIGNING_KEY, mailgun_form

FIXTURES = Path(__file__).parent / "fixtures" / "email"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
CASES = sorted(name for name in EXPECTED if not name.startswith("_"))
KINDS = {
    "stored": "message",
    "duplicate": "message",
    "bounce": "bounce",
    "report": "report",
    "quarantined": "quarantine",
}

pytestmark = pytest.mark.django_db


def shop_channel():
    channel, _ = do_create_channel(
        make_org(),
        "email",
        "Assistenza",
        {
            "address": "help@shop.example",
            "mailgun_signing_key": SIGNING_KEY,
        },
    )
    return channel


def sent_reply(channel, bounce):
    """Our reply a bounce may concern: a customer's mail, our answer to it, the mail as sent."""
    question = receive_mail(channel, compose(message_id="<domanda-0001@cliente.example>")).received.message
    reply = question.conversation.messages.create(
        organization=channel.organization,
        channel=channel,
        direction="outgoing",
        text="Ecco.",
        delivery_status="sent",
    )
    msgid = bounce.get("msgid", "adesso.altro0000001.qrstuvwx6789@shop.example")
    Mail.objects.create(
        organization=channel.organization,
        channel=channel,
        message=reply,
        incoming=False,
        key=msgid,
        msgid=msgid,
        to_address=bounce["to"],
    )
    return reply


def receive(path, channel, raw):
    if path == "direct":
        return receive_mail(channel, raw, source="test").status
    response = Client().post(f"/channels/email/{channel.code}/inbound/mailgun", **mailgun_form(raw))
    assert response.status_code == 200, response.content
    process_mail()
    return outcome_of(InboundEvent.objects.get(code=response.json()["event"])).status


def observe(channel, status, expected):
    """What the agent sees of the mail, in the terms of expected.json."""
    incoming = (
        Message.objects.filter(channel=channel, direction="incoming")
        .exclude(external_id="domanda-0001@cliente.example")
        .first()
    )
    mail = Mail.objects.filter(channel=channel, incoming=True).exclude(msgid="domanda-0001@cliente.example").first()
    kind = KINDS[status]
    seen = {"kind": "automatic" if kind == "message" and mail.automated else kind}
    text = incoming.text if incoming is not None else ""
    if "text" in expected:
        seen["text"] = text
    if "contains" in expected:
        seen["contains"] = [phrase for phrase in expected["contains"] if phrase in text]
    if "subject" in expected:
        seen["subject"] = mail.subject
    if "name" in expected:
        seen["name"] = incoming.conversation.contact.name
    if "bounce" in expected:
        seen["bounce"] = {"reason": mail.details.get("reason"), "to": expected["bounce"]["to"]}
        if "msgid" in expected["bounce"]:
            seen["bounce"]["msgid"] = expected["bounce"]["msgid"]
    return seen


def wanted(expected):
    keys = ("kind", "text", "contains", "subject", "name", "bounce")
    shown = {key: expected[key] for key in keys if key in expected}
    if "bounce" in shown:
        shown["bounce"] = {k: v for k, v in shown["bounce"].items() if k in {"reason", "to", "msgid"}}
    return shown


def test_every_fixture_says_what_it_is():
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == CASES
    assert all("kind" in EXPECTED[name] and EXPECTED[name].get("shape") for name in CASES)


@pytest.mark.parametrize("path", ["direct", "mailgun"])
@pytest.mark.parametrize("name", CASES)
def test_real_world_mail(name, path, settings):
    expected = EXPECTED[name]
    settings.ADESSO_MAX_ATTACHMENT_BYTES = expected.get("max_attachment_bytes", settings.ADESSO_MAX_ATTACHMENT_BYTES)
    channel = shop_channel()
    reply = sent_reply(channel, expected.get("bounce", {"to": "nessuno@cliente.example"}))

    status = receive(path, channel, (FIXTURES / name).read_bytes())

    assert observe(channel, status, expected) == wanted(expected)
    reply.refresh_from_db()
    bounced = Mail.objects.filter(channel=channel, kind="bounce", message=reply).exists()
    assert (bounced, reply.delivery_status) == (
        ("failed" if "bounce" in expected else "sent") == "failed",
        "failed" if "bounce" in expected else "sent",
    )
    quarantined = InboundEvent.objects.filter(channel=channel, state="quarantined").exists()
    assert quarantined is (expected["kind"] == "quarantine")


def test_stripping_is_linear_in_time():
    """12 KB with 8,000 line breaks (the old stripper took 10 s on such a mail)."""
    shapes = [
        "x" + "\n" * 8000 + "y",
        "Il giorno\n" * 1200,
        ("On a date, somebody wrote something: " * 10 + ":\n") * 800,
        ("From: a\nSent: b\n") * 4000,
        "> q\n" * 3000,
        "-- \n" * 4000,
    ]
    for text in shapes:
        start = time.monotonic()
        strip_reply(text, "Re: ordine")
        assert time.monotonic() - start < 1.0


QUOTES = [
    "On Mon, 23 Nov 2026 at 10:12, Shop <help@shop.example> wrote:\n> Your order has shipped.\n> Regards",
    "Il giorno lun 23 nov 2026 alle ore 10:12 Shop <help@shop.example> ha scritto:\n\n> Il pacco è partito.",
    "-----Messaggio originale-----\nDa: Shop [mailto:help@shop.example]\nInviato: lunedì 23 novembre 2026 10:12\n"
    "A: Mario\nOggetto: Ordine\n\nIl pacco è partito.",
    "________________________________\nFrom: Shop <help@shop.example>\nSent: Monday, November 23, 2026 10:12 AM\n"
    "To: Mario\nSubject: Order\n\nYour order has shipped.",
    "Le lun. 23 nov. 2026 à 10:12, Shop <help@shop.example> a écrit :\n> Votre commande est partie.",
    "Am Mo., 23. Nov. 2026 um 10:12 Uhr schrieb Shop <help@shop.example>:\n> Ihre Bestellung ist unterwegs.",
]
# Customer prose: words, numbers and punctuation of the languages customers write in.
WORD = st.text(alphabet="abcdefghilmnopqrstuvzàèéìòùäöüßñçłśżABCDEFGHILMNOPRSTUVZ0123456789", min_size=1, max_size=12)
LINE = (
    st.lists(WORD, min_size=1, max_size=12)
    .map(" ".join)
    .flatmap(lambda words: st.sampled_from(["", ".", ",", "?", "!", ":"]).map(lambda end: words + end))
)


MARKED = [quote for quote in QUOTES if "\n>" in quote]


def lost(own_text, shown):
    return [line.strip() for line in own_text.split("\n") if line.strip() and line.strip() not in shown]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.one_of(LINE, st.just("")), min_size=1, max_size=25),
    quote=st.sampled_from(QUOTES),
    marked=st.sampled_from(MARKED),
)
def test_no_line_of_the_customers_own_is_ever_removed(lines, quote, marked):
    words = "\n".join(lines).strip() or "Grazie"

    alone = strip_reply(words, "Re: ordine")
    top_posted = strip_reply(f"{words}\n\n{quote}\n", "Re: ordine")
    bottom_posted = strip_reply(f"{marked}\n\n{words}\n", "Re: ordine")

    assert (lost(words, alone), lost(words, top_posted), lost(words, bottom_posted)) == ([], [], [])
    assert "help@shop.example" not in top_posted + bottom_posted
