"""A customer who blocked the bot (Telegram's 403, from the loopback Bot API): the reply
fails visibly, the contact's Telegram identity is flagged unreachable with when and why,
shown on the contact, and cleared when the customer writes again."""

from __future__ import annotations

import pytest
from django.test import Client

from adesso.accounts.models import Role
from adesso.contacts.models import Contact, ContactIdentity
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation, Message
from adesso.outbox.models import Delivery
from tests import test_telegram
from tests.builders import make_agent, make_org
from tests.test_telegram import MARIO, connect, post, update

# The Telegram tests' fixtures: the loopback Bot API, and running what waits for commit.
bot = test_telegram.bot
run = test_telegram.run

pytestmark = pytest.mark.django_db


def telegram_identity() -> ContactIdentity:
    return ContactIdentity.objects.get(kind="telegram", value=str(MARIO["id"]))


def test_a_403_flags_the_identity_unreachable_and_a_new_message_clears_it(bot, run):
    org = make_org()
    channel = connect(org)
    run(post, channel, update("Buongiorno"))
    assert telegram_identity().unreachable_at is None
    bot.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")

    reply = run(do_send_reply, make_agent(org), Conversation.objects.get(), "Ci siamo?")

    assert Delivery.objects.get(message=reply).status == "failed"
    identity = telegram_identity()
    assert identity.unreachable_at is not None
    assert "blocked the bot" in identity.unreachable_reason and "403" in identity.unreachable_reason
    # Shown on the contact, with when and why.
    anna = Client()
    anna.force_login(make_agent(org, "Anna", role=Role.ADMIN, language="en"))
    page = anna.get(f"/contacts/{Contact.objects.get().code}/").content.decode()
    assert 'data-unreachable="telegram"' in page and "Unreachable" in page and "blocked the bot" in page

    # The customer writes again: the bot reaches them again.
    run(post, channel, update("Scusate, avevo bloccato il bot per errore"))

    assert Message.objects.filter(text__startswith="Scusate").exists()
    identity.refresh_from_db()
    assert (identity.unreachable_at, identity.unreachable_reason) == (None, "")
    assert 'data-unreachable="telegram"' not in anna.get(f"/contacts/{Contact.objects.get().code}/").content.decode()
    again = run(do_send_reply, make_agent(org), Conversation.objects.get(), "Bentornato!")
    assert Delivery.objects.get(message=again).status == "sent"
    assert bot.sent("sendMessage")[-1].body["text"] == "Bentornato!"


def test_other_failures_do_not_flag_the_identity(bot, run):
    org = make_org()
    channel = connect(org)
    run(post, channel, update())
    bot.fail_next("sendMessage", 400, "Bad Request: message text is empty")

    reply = run(do_send_reply, make_agent(org), Conversation.objects.get(), "Ci siamo?")

    assert Delivery.objects.get(message=reply).status == "failed"
    assert telegram_identity().unreachable_at is None
