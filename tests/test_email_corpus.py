"""A corpus of real-world mail shapes (tests/fixtures/email/*.eml) through the one
intake handler, each against its expected result in expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adesso.channels.actions import do_create_channel
from adesso.channels.email.models import Mail
from adesso.conversations.models import Message
from tests.builders import make_org
from tests.support.mailintake import receive_mail

FIXTURES = Path(__file__).parent / "fixtures" / "email"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
# The mails described in detail (sender, subject, attachments, threading); every fixture's
# kind and visible text are checked by tests/test_email_realworld.py.
CASES = sorted(name for name in EXPECTED if "status" in EXPECTED[name])

pytestmark = pytest.mark.django_db


def test_every_detailed_result_has_its_fixture():
    assert {p.name for p in FIXTURES.glob("*.eml")} >= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_corpus(name, settings):
    expected = EXPECTED[name]
    if "max_attachment_bytes" in expected:
        settings.ADESSO_MAX_ATTACHMENT_BYTES = expected["max_attachment_bytes"]
    channel, _ = do_create_channel(make_org(), "email", "Assistenza", {"address": "help@shop.example"})
    raw = (FIXTURES / name).read_bytes()

    outcome = receive_mail(channel, raw, source="test")

    assert outcome.status == expected["status"]
    if expected["status"] == "quarantined":
        assert outcome.quarantine.error == "Cannot be processed: " + expected["reason"]
        assert bytes(outcome.quarantine.body) == raw
        return
    if expected["status"] == "bounce":
        assert outcome.mail.kind == "bounce" and outcome.mail.message is None
        assert not Message.objects.filter(channel=channel).exists()
        return
    message = outcome.received.message
    mail = Mail.objects.get(message=message)
    contact = message.conversation.contact
    contact.refresh_from_db()
    assert (contact.email, contact.name) == (expected["from"], expected["name"])
    assert mail.subject == expected["subject"]
    if "text" in expected:
        assert message.text == expected["text"]
    for phrase in expected.get("text_contains", []):
        assert phrase in message.text
    files = list(message.attachments.order_by("pk"))
    assert [f.filename for f in files] == expected["attachments"]
    for f in files:
        assert f.file.read() and f.size > 0
    assert bool(mail.automated) is expected["automated"]
    assert mail.threaded_by == expected["threaded_by"]
    assert mail.raw.read() == raw
    assert sorted(mail.inline) == expected.get("inline", [])
    if expected.get("inline"):
        assert set(mail.inline.values()) == {f.code for f in files}
    # The same mail again stores nothing more.
    assert receive_mail(channel, raw).status == "duplicate"
    assert Message.objects.filter(channel=channel).count() == 1
