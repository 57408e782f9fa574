"""Attacks on the email channel (issue 14), each performed for real: a slow address
pattern (finding 1), a replayed Mailgun signature (finding 4), a stranger's mail
joining someone else's conversation (finding 10), one tenant sending as another
through the shared mail backend (finding 3)."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail as django_mail
from django.test import Client

from adesso.accounts.models import Role
from adesso.channels.actions import do_create_channel
from adesso.channels.email.senders import is_proven
from adesso.channels.models import Channel, InboundEvent
from adesso.conversations.models import Message
from adesso.lib.addresses import normalize_email
from tests.builders import AgentApi, make_agent, make_org
from tests.support.mailintake import receive_mail
from tests.support.mailservers import compose
from tests.test_email_webhooks import SIGNING_KEY, mailgun_form

pytestmark = pytest.mark.django_db


# -- finding 1: the address pattern -------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "x@" + "a." * 8000 + " x",  # took 0.74 s with the old pattern
        "x@" + "a." * 8000 + "@",  # 0.91 s
        "a@" * 8000,
        "x@" + "a" * 16000,
        "m" * 16000 + "@example.net",
    ],
)
def test_a_16k_character_address_is_refused_in_linear_time(value):
    start = time.perf_counter()
    for _ in range(100):
        assert normalize_email(value) == ""
    assert (time.perf_counter() - start) / 100 < 0.002


def test_the_address_check_still_knows_an_address():
    assert normalize_email("  Mario.Bianchi+ordini@Example.NET ") == "mario.bianchi+ordini@example.net"
    assert [normalize_email(v) for v in ("a@b", "@b.c", "a@b.", "a b@c.d", "a@b@c.d")] == [""] * 5


# -- finding 4: Mailgun replays -------------------------------------------------------------


@pytest.fixture
def mailgun_channel():
    channel, _ = do_create_channel(
        make_org(), "email", "Assistenza", {"address": "help@shop.example", "mailgun_signing_key": SIGNING_KEY}
    )
    return channel


def signed(timestamp: str, token: str) -> dict:
    signature = hmac.new(SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def post_mailgun(channel, raw: bytes, signature: dict):
    form = mailgun_form(raw)
    # mailgun_form signs afresh: put the captured signature in its place.
    body = form["data"]
    for name, value in signature.items():
        body = re.sub(
            rf'(name="{name}"\r\n\r\n)[^\r]*'.encode(), lambda m, v=value: m.group(1) + v.encode(), body, count=1
        )
    return Client().post(
        f"/channels/email/{channel.code}/inbound/mailgun", data=body, content_type=form["content_type"]
    )


def test_a_validly_signed_request_from_2017_is_refused(mailgun_channel):
    old = signed("1500000000", "d1f4a0c2b3e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4")  # 14 July 2017

    r = post_mailgun(mailgun_channel, compose(message_id="<forged-2017@example.net>"), old)

    assert r.status_code == 403 and r.json()["error"] == "stale_signature"
    assert not InboundEvent.objects.exists()


def test_a_captured_signature_reused_with_another_mail_is_refused(mailgun_channel):
    captured = signed(str(int(time.time())), "7c1f0e2d3b4a59687f6e5d4c3b2a1908f7e6d5c4b3a29180f7")
    first = post_mailgun(mailgun_channel, compose(message_id="<genuine@example.net>"), captured)
    retry = post_mailgun(mailgun_channel, compose(message_id="<genuine@example.net>"), captured)

    forged = [
        post_mailgun(mailgun_channel, compose(message_id=f"<forged-{n}@example.net>", text=f"Forged {n}"), captured)
        for n in range(3)
    ]

    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert retry.status_code == 200 and retry.json() == {"event": first.json()["event"], "duplicate": True}
    assert [(r.status_code, r.json()["error"]) for r in forged] == [(403, "replayed_token")] * 3
    assert InboundEvent.objects.count() == 1


# -- finding 10: thread hijack --------------------------------------------------------------


@pytest.fixture
def shop():
    channel, _ = do_create_channel(make_org(), "email", "Assistenza", {"address": "help@shop.example"})
    mario = receive_mail(channel, compose(message_id="<mario-1@example.net>", subject="Ordine 1234"))
    return channel, mario.received.conversation


def test_a_strangers_mail_carrying_a_conversations_code_starts_its_own(shop):
    channel, conversation = shop
    ours = f"<adesso.abcdefgh.{conversation.code}@shop.example>"
    attacks = [
        compose(
            sender="Eve <eve@evil.example>",
            message_id="<eve-1@evil.example>",
            headers={"In-Reply-To": "<mario-1@example.net>", "References": "<mario-1@example.net>"},
        ),
        compose(sender="Eve <eve@evil.example>", message_id="<eve-2@evil.example>", headers={"In-Reply-To": ours}),
        compose(
            sender="Eve <eve@evil.example>",
            message_id="<eve-3@evil.example>",
            to=f"help+{conversation.code}@shop.example",
        ),
        compose(
            sender="Eve <eve@evil.example>",
            message_id="<eve-4@evil.example>",
            subject=f"Re: Ordine 1234 [#{conversation.code}]",
        ),
    ]

    outcomes = [receive_mail(channel, raw) for raw in attacks]

    assert [o.status for o in outcomes] == ["stored"] * 4
    assert all(o.received.conversation.pk != conversation.pk for o in outcomes)
    assert {o.received.conversation.contact.email for o in outcomes} == {"eve@evil.example"}
    assert [o.mail.threaded_by for o in outcomes] == [
        "stranger: references",
        "stranger: our-message-id",
        "stranger: plus-address",
        "stranger: subject",
    ]
    assert list(conversation.messages.values_list("external_id", flat=True)) == ["mario-1@example.net"]


def test_the_contact_still_threads_by_every_code(shop):
    channel, conversation = shop
    mails = [
        compose(message_id="<mario-2@example.net>", headers={"In-Reply-To": "<mario-1@example.net>"}),
        compose(message_id="<mario-3@example.net>", to=f"help+{conversation.code}@shop.example"),
        compose(message_id="<mario-4@example.net>", subject=f"Ancora [#{conversation.code}]"),
    ]

    outcomes = [receive_mail(channel, raw) for raw in mails]

    assert {o.received.conversation.pk for o in outcomes} == {conversation.pk}
    assert [o.mail.threaded_by for o in outcomes] == ["references", "plus-address", "subject"]


# -- finding 3: one tenant sending as another --------------------------------------------------


def test_an_admin_cannot_send_as_another_organisations_address(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Organisation A owns assistenza@rossi.example and proves it.
    rossi = make_org("Rossi")
    own, _ = do_create_channel(rossi, "email", "Assistenza", {"address": "assistenza@rossi.example"})
    [proof] = django_mail.outbox
    assert proof.to == ["assistenza@rossi.example"] and proof.from_email == settings.DEFAULT_FROM_EMAIL
    link = urlsplit(re.search(r"https?://\S+/verify/\S+", proof.body).group(0)).path
    assert Client().get(link).status_code == 200  # a link scanner's GET proves nothing
    assert Client().post(link).status_code == 200
    django_mail.outbox.clear()

    # The admin of organisation B connects a channel with A's address, no SMTP of its own.
    bianchi = make_org("Bianchi")
    admin = AgentApi(make_agent(bianchi, "Bruno", role=Role.ADMIN))
    r = admin.post("/channels", {"kind": "email", "name": "Finta", "config": {"address": "assistenza@rossi.example"}})
    assert r.status_code == 201, r.content
    stolen = Channel.objects.get(code=r.json()["code"])
    customer = receive_mail(stolen, compose(message_id="<vittima@example.net>", sender="vittima@example.net"))
    with django_capture_on_commit_callbacks(execute=True):
        r = AgentApi(make_agent(bianchi, "Bea")).post(
            f"/conversations/{customer.received.conversation.code}/messages",
            {"text": "Clicca qui per il rimborso: https://evil.example/"},
        )

    assert r.status_code == 201, r.content
    reply = Message.objects.get(code=r.json()["code"])
    assert reply.delivery_status == "failed"
    assert "has not been proven" in reply.deliveries.get().last_error
    # Nothing left From A's address: only the proof mail, to the address, From the operator.
    assert [(m.from_email, m.to) for m in django_mail.outbox] == [
        (settings.DEFAULT_FROM_EMAIL, ["assistenza@rossi.example"])
    ]
    assert "evil.example" not in django_mail.outbox[0].body
    # A's own channel sends.
    with django_capture_on_commit_callbacks(execute=True):
        mine = receive_mail(own, compose(message_id="<cliente@example.net>"))
        AgentApi(make_agent(rossi, "Rita")).post(
            f"/conversations/{mine.received.conversation.code}/messages", {"text": "Ecco il codice."}
        )
    assert django_mail.outbox[-1].from_email.endswith("<assistenza@rossi.example>") or (
        django_mail.outbox[-1].from_email == "assistenza@rossi.example"
    )


def test_an_unproven_address_is_shown_with_the_reason_and_a_wrong_link_proves_nothing(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    channel, _ = do_create_channel(make_org(), "email", "Assistenza", {"address": "help@shop.example"})

    wrong = Client().post(f"/channels/email/{channel.code}/verify/not-the-token")
    assert wrong.status_code == 404
    assert is_proven(channel.organization_id, "help@shop.example") is False
