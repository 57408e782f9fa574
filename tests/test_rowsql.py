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


def test_update_many_writes_what_save_writes_for_each_row():
    org = make_org("Pasticceria Tante")
    channel = make_api_channel(org).channel
    people = [Contact.objects.create(organization=org, name=name) for name in ("Anna", "Bruno", "Carla")]
    by_save, by_many = [
        [
            Conversation.objects.create(
                organization=org, channel=channel, contact=person, created_at=WHEN, updated_at=WHEN
            )
            for person in people
        ]
        for _ in range(2)
    ]
    fields = ["status", "waiting_since", "last_message_preview", "sla_state", "snoozed_until", "assignee"]
    for n, (one, other) in enumerate(zip(by_save, by_many, strict=True)):
        for row in (one, other):
            row.status = Status.PENDING if n % 2 else Status.OPEN
            row.waiting_since = WHEN + dt.timedelta(minutes=n)
            row.last_message_preview = f"L'ordine {n} è arrivato? \"sì\", {{graffe}}"
            row.sla_state = {"response": {"stage": n, "kind": "first"}}
            row.snoozed_until = None
        one.save(update_fields=fields)
    rowsql.update_many(by_many, fields)
    for one, other in zip(by_save, by_many, strict=True):
        expected, found = _read(Conversation, one.pk), _read(Conversation, other.pk)
        expected.pop("contact"), found.pop("contact")
        assert found == expected


def test_a_model_with_save_signals_is_refused():
    def receiver(**kwargs):
        return None

    signals.post_save.connect(receiver, sender=Organization, dispatch_uid="test-rowsql")
    try:
        with pytest.raises(TypeError, match="save signals"):
            rowsql.insert(Organization(name="Forno Verdi"))
    finally:
        signals.post_save.disconnect(receiver, sender=Organization, dispatch_uid="test-rowsql")


def _rows(model: type, pks: list[int]) -> list[dict]:
    return [_read(model, pk) for pk in pks]


def test_insert_many_writes_the_rows_bulk_create_writes_in_order_with_their_keys():
    from django.utils.translation import gettext_lazy

    from adesso.conversations.models import ConversationEvent, EventKind
    from adesso.outbox.models import Delivery, DeliveryState

    org = make_org("Pasticceria Molti")
    channel = make_api_channel(org)
    anna = Contact.objects.create(organization=org, name="Anna", email="anna@example.it")
    conversation = Conversation.objects.create(
        organization=org, channel=channel.channel, contact=anna, created_at=WHEN, updated_at=WHEN
    )

    def messages(tag: str) -> list[Message]:
        # A message whose conversation is set as an object, text that is a lazy
        # translation (not a plain str: the fields' own preparation), an enum value.
        return [
            Message(
                organization=org,
                conversation=conversation,
                channel=channel.channel,
                direction=Direction.OUTGOING,
                auto=True,
                text=gettext_lazy("Thank you") if i % 50 == 0 else f"Grazie {i}",
                created_at=WHEN + dt.timedelta(seconds=i),
                external_id=f"{tag}-{i}",
            )
            for i in range(230)  # more than one multi-row statement
        ]

    by_bulk, by_rowsql = messages("bulk"), messages("fast")
    Message.objects.bulk_create(by_bulk)
    rowsql.insert_many(by_rowsql)
    assert all(m.pk and not m._state.adding for m in by_rowsql)
    assert [m.text for m in Message.objects.filter(pk__in=[m.pk for m in by_rowsql]).order_by("pk")] == [
        str(m.text) for m in by_rowsql
    ]
    assert _rows(Message, [m.pk for m in by_bulk]) == _rows(Message, [m.pk for m in by_rowsql])

    # Rows pointing at rows saved after they were built (a delivery of a message kept
    # for the same flush): the keys are taken from them, as bulk_create does.
    def deliveries(sent: list[Message]) -> list[Delivery]:
        return [
            Delivery(organization=org, message=m, channel=channel.channel, status=DeliveryState.QUEUED, created_at=WHEN)
            for m in sent[:20]
        ]

    Delivery.objects.bulk_create(deliveries(by_bulk))
    fast_deliveries = deliveries(by_rowsql)
    rowsql.insert_many(fast_deliveries)
    assert [d.message_id for d in fast_deliveries] == [m.pk for m in by_rowsql[:20]]

    def events() -> list[ConversationEvent]:
        naive = dt.datetime(2026, 12, 4, 9, 30)  # a naive time: Django's own path
        return [
            ConversationEvent(
                organization_id=org.pk,
                conversation=conversation,
                kind=EventKind.AUTO_SENT,
                data={"message": "m1", "promise_at": WHEN.isoformat(), "n": 3.5},
                created_at=WHEN,
            ),
            ConversationEvent(organization=org, conversation=conversation, kind="note_added", created_at=WHEN),
            ConversationEvent(organization=org, conversation=conversation, kind="note_added", created_at=naive),
        ]

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the naive time's warning, on both paths
        slow, fast = ConversationEvent.objects.bulk_create(events()), events()
        rowsql.insert_many(fast)
    assert _rows(ConversationEvent, [e.pk for e in slow]) == _rows(ConversationEvent, [e.pk for e in fast])


def test_new_builds_the_row_the_keyword_constructor_builds():
    org = make_org("Pasticceria Nuova")
    channel = make_api_channel(org)
    anna = Contact.objects.create(organization=org, name="Anna", email="anna@example.it")
    values = {
        "organization_id": org.pk,
        "channel": channel.channel,
        "contact": anna,
        "created_at": WHEN,
        "updated_at": WHEN,
    }
    by_keywords, by_position = Conversation(**values), rowsql.new(Conversation, **values)

    assert model_to_dict(by_position) | {"code": ""} == model_to_dict(by_keywords) | {"code": ""}
    assert by_position.code and by_position.code != by_keywords.code  # a default called for each row
    assert by_position.contact is anna and by_position.channel_id == channel.channel.pk  # the objects kept
    assert by_position._state.adding
    with pytest.raises(TypeError, match="no column"):
        rowsql.new(Conversation, organization=org, colour="blu")
