"""What agents and admins see of the email channel: the stripped text in the
timeline with a link to the whole original (sanitised, downloadable), and the
quarantine with its reasons (supervisors and admins only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from adesso.accounts.models import Role
from adesso.channels.actions import do_create_channel
from adesso.channels.email.config import masked
from adesso.channels.email.models import Mail
from tests.builders import make_agent, make_org
from tests.support.mailintake import receive_mail
from tests.support.mailservers import compose

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "email"


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def shop():
    org = make_org()
    channel, _ = do_create_channel(org, "email", "Assistenza", {"address": "help@shop.example"})
    return org, channel


def test_timeline_shows_the_stripped_text_and_links_the_original(shop):
    org, channel = shop
    outcome = receive_mail(channel, (FIXTURES / "gmail_reply_it.eml").read_bytes())
    message = outcome.received.message
    client = logged_in(make_agent(org))

    page = client.get(f"/c/{message.conversation.code}/").content.decode()
    original = client.get(f"/channels/email/message/{message.code}/original")

    assert "Sarò a casa giovedì" in page and "il corriere passerà" not in page
    assert f'href="/channels/email/message/{message.code}/original"' in page
    assert original.status_code == 200
    text = original.content.decode()
    assert "il corriere passerà giovedì" in text  # the whole original, quotes included
    assert "CAM9x=Zq1@mail.gmail.example" in text


def test_the_original_is_sanitised_and_its_inline_images_are_shown(shop):
    org, channel = shop
    message = receive_mail(channel, (FIXTURES / "inline_image.eml").read_bytes()).received.message
    image = message.attachments.get()

    text = logged_in(make_agent(org)).get(f"/channels/email/message/{message.code}/original").content.decode()

    assert "<script>" not in text and "alert(1)" not in text
    assert f'src="/attachments/{image.code}"' in text


def test_the_eml_downloads_whole(shop):
    org, channel = shop
    raw = compose(message_id="<scarica@example.net>")
    mail = receive_mail(channel, raw).mail

    r = logged_in(make_agent(org)).get(f"/channels/email/mail/{mail.code}.eml")

    assert r.status_code == 200 and r["Content-Type"] == "message/rfc822"
    assert b"".join(r.streaming_content) == raw


def test_another_organisations_agent_sees_nothing(shop):
    _org, channel = shop
    outcome = receive_mail(channel, compose())
    stranger = logged_in(make_agent(make_org("Altra")))

    assert stranger.get(f"/channels/email/message/{outcome.received.message.code}/original").status_code == 404
    assert stranger.get(f"/channels/email/mail/{outcome.mail.code}.eml").status_code == 404


def test_quarantine_is_for_supervisors_with_the_reason(shop):
    org, channel = shop
    row = receive_mail(channel, b"To: help@shop.example\r\nSubject: x\r\n\r\nbody\r\n").quarantine
    agent = logged_in(make_agent(org))
    admin = logged_in(make_agent(org, role=Role.ADMIN))

    assert agent.get("/channels/email/quarantine/").status_code == 403
    page = admin.get("/channels/email/quarantine/").content.decode()
    assert "The mail has no sender address (From)" in page
    assert admin.get(f"/channels/email/quarantine/{row.code}.eml").status_code == 200
    assert logged_in(make_agent(make_org("Altra"), role=Role.ADMIN)).get(
        f"/channels/email/quarantine/{row.code}.eml").status_code == 404


def test_a_failed_delivery_links_the_bounce(shop, django_capture_on_commit_callbacks):
    org, channel = shop
    message = receive_mail(channel, compose()).received.message
    reply = message.conversation.messages.create(
        organization=org, channel=channel, direction="outgoing", text="Ecco.", delivery_status="sent")
    Mail.objects.create(organization=org, channel=channel, message=reply, incoming=False,
                        key="adesso.x@shop.example", msgid="adesso.x@shop.example")
    dsn = (FIXTURES / "bounce_dsn.eml").read_bytes().replace(b"{ORIGINAL_MESSAGE_ID}", b"<adesso.x@shop.example>")
    with django_capture_on_commit_callbacks(execute=True):
        assert receive_mail(channel, dsn).status == "bounce"

    client = logged_in(make_agent(org))
    page = client.get(f"/c/{message.conversation.code}/").content.decode()
    original = client.get(f"/channels/email/message/{reply.code}/original").content.decode()

    assert f'href="/channels/email/message/{reply.code}/original"' in page
    assert "delivery-failed" in page
    assert "User unknown in virtual mailbox table" in original


def test_secrets_are_never_shown_back_in_full():
    shown = masked({"address": "a@b.it", "imap": {"password": "super-segreta-123", "user": "a"},
                    "webhook_secret": "user:pass-lunga"})

    assert shown["imap"] == {"password": "…23", "user": "a"}
    assert shown["webhook_secret"] == "…ga"


def test_the_original_links_add_no_query_per_message(shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    org, channel = shop
    client = logged_in(make_agent(org))
    first = receive_mail(channel, compose(message_id="<q-0@example.net>")).received
    code = first.conversation.code

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/c/{code}/").status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    for n in range(1, 6):
        receive_mail(channel, compose(message_id=f"<q-{n}@example.net>", subject=f"[#{code}] altro"))
    after = queries()

    assert after == before
    assert client.get(f"/c/{code}/").content.decode().count("/original") == 6
