"""The channels page's "send a test" for an email channel: a real IMAP login (Dovecot on
127.0.0.1) and a real SMTP connection (aiosmtpd), nothing sent."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from adesso.accounts.models import Role
from adesso.channels.models import Channel
from tests.builders import make_agent, make_org
from tests.support.mailservers import start_dovecot, start_smtp, stop_smtp

pytestmark = pytest.mark.django_db


@pytest.fixture
def dovecot():
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = start_smtp()
    yield server
    stop_smtp(server)


def mailbox(org: Any, imap: dict[str, Any], smtp: dict[str, Any]) -> Channel:
    # Saved as the model saves it: connecting would send the address's proof mail.
    return Channel.objects.create(
        organization=org,
        kind="email",
        name="Assistenza",
        config={"address": "assistenza@rossi.example", "imap": imap, "smtp": smtp},
    )


def test_the_email_test_logs_in_to_imap_and_opens_smtp_and_sends_nothing(dovecot, smtp):
    org = make_org()
    anna = Client()
    anna.force_login(make_agent(org, "Anna", role=Role.ADMIN, language="en"))
    good = mailbox(org, dovecot.imap_config(), smtp.config())

    said = anna.post(f"/settings/channels/{good.code}/test", follow=True).content.decode()

    assert "Test of Assistenza passed: IMAP login to 127.0.0.1 works; the SMTP server 127.0.0.1 accepts" in said
    assert smtp.messages == []

    wrong = mailbox(org, dovecot.imap_config(password="sbagliata-segreta"), smtp.config())
    failed = anna.post(f"/settings/channels/{wrong.code}/test", follow=True).content.decode()
    assert "Test of Assistenza failed: The IMAP server 127.0.0.1 refused" in failed
    assert "sbagliata-segreta" not in failed

    closed = {**smtp.config(), "port": dovecot.port + 1 if dovecot.port < 65535 else 1}
    no_smtp = mailbox(org, dovecot.imap_config(), closed)
    failed = anna.post(f"/settings/channels/{no_smtp.code}/test", follow=True).content.decode()
    assert "Test of Assistenza failed: Sending does not work: Could not connect to the mail server" in failed
