"""adesso/lib/rowsql.py writes a row exactly as `save()` does (the inbound hot path
uses it for contacts, identities, conversations and messages)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db.models import signals
from django.forms.models import model_to_dict

from adesso.accounts.models import Organization
from adesso.contacts.models import Contact, ContactIdentity
from adesso.conversations.models import Conversation, Direction, Message, Status
from adesso.lib import rowsql
from tests.builders import make_api_channel, make_org

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 12, 4, 9, 30, 15, 123456, tzinfo=dt.UTC)


def _read(model: type, pk: int) -> dict:
    row = model.objects.get(pk=pk)
    values = model_to_dict(row, fields=[f.name for f in model._meta.concrete_fields])
    values.pop("id")
    values.pop("code", None)
    values.pop("external_id", None)  # unique per channel
    return values


def _pair(make):
    """The same row written by save() and by rowsql.insert, read back from the database."""
    by_save, by_rowsql = make(), make()
    by_save.save(force_insert=True)
    rowsql.insert(by_rowsql)
    assert by_rowsql.pk and by_rowsql.pk != by_save.pk and not by_rowsql._state.adding
    return _read(type(by_save), by_save.pk), _read(type(by_rowsql), by_rowsql.pk)


def test_rows_inserted_are_the_rows_save_writes():
    org = make_org("Pasticceria Rowsql")
    channel = make_api_channel(org)
    saved, fast = _pair(
        lambda: Contact(
            organization=org, name="Anna Bianchi", email="anna@example.it", phone="", created_at=WHEN, updated_at=WHEN
        )
    )
    assert saved == fast and fast["name"] == "Anna Bianchi"
    anna = Contact.objects.filter(organization=org, email="anna@example.it").first()
    conversation_values = {
        "organization": org,
        "channel": channel.channel,
        "contact": anna,
        "created_at": WHEN,
        "updated_at": WHEN,
        "waiting_since": WHEN,
        "last_customer_message_at": WHEN,
        "last_message_preview": "Buongiorno, è arrivata la torta?",
        "subject": "Ordine 42",
        "language": "it",
    }
    saved, fast = _pair(lambda: Conversation(**conversation_values))
    assert saved == fast and fast["waiting_since"] == WHEN and fast["status"] == Status.OPEN
    conversation = Conversation.objects.filter(contact=anna).first()
    ids = itertools.count(1)
    saved, fast = _pair(
        lambda: Message(
            organization=org,
            conversation=conversation,
            channel=channel.channel,
            direction=Direction.INCOMING,
            external_id=f"tg-{next(ids)}",
            text="Buongiorno, è arrivata la torta? 🎂",
            created_at=WHEN,
        )
    )
    assert saved == fast and fast["text"].endswith("🎂")
    identity = ContactIdentity(organization=org, contact=anna, kind="telegram", value="4242")
    rowsql.insert(identity)
    assert ContactIdentity.objects.get(pk=identity.pk).value == "4242"


def test_update_writes_only_the_named_fields():
    org = make_org("Pasticceria Rowsql")
    anna = Contact.objects.create(organization=org, name="Anna", email="anna@example.it")
    anna.name, anna.phone = "Anna Bianchi", "+393331234567"
    rowsql.update(anna, ["name", "name"])  # repeated names count once
    stored = Contact.objects.get(pk=anna.pk)
    assert stored.name == "Anna Bianchi" and stored.phone == ""


def test_a_model_with_save_signals_is_refused():
    def receiver(**kwargs):
        return None

    signals.post_save.connect(receiver, sender=Organization, dispatch_uid="test-rowsql")
    try:
        with pytest.raises(TypeError, match="save signals"):
            rowsql.insert(Organization(name="Forno Verdi"))
    finally:
        signals.post_save.disconnect(receiver, sender=Organization, dispatch_uid="test-rowsql")
