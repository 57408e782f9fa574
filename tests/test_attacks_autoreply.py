"""Findings 7 and 8 of issue 14: the automatic messages carry no attacker's text and
their templates run no format options."""

from __future__ import annotations

import json

import pytest

from adesso.accounts.models import Role
from adesso.autoreply.actions import do_save_template
from adesso.autoreply.models import AutoReplyTemplate
from adesso.channels.email.letter import letter
from adesso.conversations.models import Conversation, Message
from adesso.lib.errors import ActionError
from adesso.lib.names import safe_first_name
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db

PHISHING = "Claim your refund now: https://evil.example"
# The same in full-width letters, which NFKC folds back to ASCII.
FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) for c in "Claim:https://evil.example")


def _ack(org, name: str) -> Message:
    body = customer_writes(make_api_channel(org), "Buongiorno, il mio ordine?", sender={"name": name})
    return Message.objects.get(conversation=Conversation.objects.get(code=body["conversation"]), auto=True)


@pytest.mark.parametrize(
    "name",
    [
        PHISHING,
        "https://evil.example/refund",
        "evil.example",
        "Rimborso→www.evil.example",
        "WIN 1000000 EUR",
        "refund@evil.example",
        "Claim\u00a0your\u00a0refund:\u00a0https://evil.example",
        FULLWIDTH,
        "x" * 60,
    ],
)
def test_a_crafted_display_name_never_reaches_the_acknowledgement(name):
    org = make_org(ack=True)
    ack = _ack(org, name)
    assert ack.text.startswith("Ciao, abbiamo ricevuto il tuo messaggio."), ack.text
    for piece in ("evil", "http", "refund", "Claim", "1000000", "xxxx"):
        assert piece not in ack.text


def test_a_real_first_name_is_kept():
    org = make_org(ack=True)
    assert _ack(org, "Anna-Maria D'Angelo").text.startswith("Ciao Anna-Maria, abbiamo ricevuto")


def test_the_mail_form_of_an_automatic_message_greets_neutrally():
    text = "Ci stiamo mettendo più del previsto e ce ne scusiamo."
    mail = letter(text, name=PHISHING, signer="Assistenza Rossi", language="it")
    assert mail.startswith("Buongiorno,\n\n")
    assert "evil" not in mail and "Claim" not in mail
    assert letter(text, name="Mario Rossi", signer="Assistenza Rossi", language="it").startswith("Buongiorno Mario,")


@pytest.mark.parametrize(
    "template",
    [
        "Ciao {name:x>5000000}, entro {estimate}",
        "Ciao {name.__class__}, entro {estimate}",
        "Ciao {0}, entro {estimate}",
        "Ciao {name!r}, entro {estimate}",
        "Ciao {name[0]}, entro {estimate}",
        "Entro {estimate:>99999999}",
        "Ciao {}, entro {estimate}",
        "Entro {estimate.__init__.__globals__}",
    ],
)
def test_templates_take_plain_placeholders_only(template):
    org = make_org(ack=True)
    admin = make_agent(org, "Anna", role=Role.ADMIN)
    with pytest.raises(ActionError) as refused:
        do_save_template(admin, "ack", "it", template)
    assert refused.value.code == "invalid_template"
    answer = AgentApi(admin).send("put", "/autoreplies/ack/it", json.dumps({"text": template}))
    assert answer.status_code == 400
    assert "placeholder" in answer.json()["message"].lower()
    assert not AutoReplyTemplate.objects.filter(organization=org).exists()


def test_a_template_stored_before_the_check_is_filled_safely():
    """A row written before templates were checked (or by hand) cannot run its options."""
    org = make_org(ack=True)
    AutoReplyTemplate.objects.create(
        organization=org,
        purpose="ack",
        language="it",
        text="Ciao {name:x>5000000}{0}{name.__class__}, entro {estimate}.",
    )
    ack = _ack(org, "Mario Rossi")
    assert len(ack.text) < 200
    assert ack.text.startswith("Ciao Mario, entro ")
    assert "class" not in ack.text


@pytest.mark.parametrize("name", ["Mario", "Zoë", "José", "Anna-Maria"])
def test_safe_first_names(name):
    assert safe_first_name(f"{name} Rossi") == name
