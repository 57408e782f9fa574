"""Intake: a customer's message becomes part of a conversation.

The one place where the conversation, routing and the acknowledgement meet for an
incoming message (issue 10): every channel kind, the inbound pipeline, the demo and
the simulator call `do_receive_message`. The core (`adesso.conversations`), routing
and acknowledgements (`adesso.autoreply`) never import this module back
(tests/test_architecture.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.autoreply.actions import acknowledge
from adesso.contacts.actions import do_resolve_contact
from adesso.conversations.actions import preview as summary
from adesso.conversations.events import record_events
from adesso.conversations.models import ACTIVE_STATUSES, Attachment, Conversation, Direction, EventKind, Message, Status
from adesso.lib import batch, rowsql
from adesso.lib.html import html_to_text, sanitize_html
from adesso.lib.language import detect_language
from adesso.routing import actions as routing
from adesso.routing.engine import Candidate, candidates
from adesso.sla import engine as sla
from adesso.surveys import actions as surveys

if TYPE_CHECKING:
    from adesso.channels.base import InboundMessage
    from adesso.channels.models import Channel
    from adesso.contacts.models import Contact


@dataclass
class Received:
    conversation: Conversation
    message: Message
    created: bool  # False when the external id had been received before


def do_receive_message(channel: Channel, inbound: InboundMessage) -> Received:
    """Store a customer's message once, in the contact's open conversation on this channel.

    Idempotent on (channel, external id): a repeated delivery returns what
    the first one stored. Safe under concurrent deliveries of the same id.
    """
    if not batch.careful():
        # A batch applied optimistically: a repeat fails the batch, which is applied
        # again with a savepoint per message (adesso/channels/pipeline.py).
        return _receive_rows(channel, inbound)
    try:
        return _receive(channel, inbound)
    except IntegrityError:
        batch.forget()  # in a batch: what it remembers may have rolled back with the message
        # Delivered before (the unique (channel, external id) refused the row and
        # the transaction rolled back), or a concurrent delivery of the same
        # message or of a new sender's identity won the race: what it stored is
        # the answer. New messages are the common case, so they are not looked
        # up first: the constraint decides, at no extra query.
        existing = _existing(channel, inbound.external_id)
        if existing is not None:
            return existing
        return _receive(channel, inbound)


def _existing(channel: Channel, external_id: str) -> Received | None:
    message = Message.objects.select_related("conversation").filter(channel=channel, external_id=external_id).first()
    if message is None:
        return None
    return Received(message.conversation, message, created=False)


# Hand-written SQL: looked up for every message received, and the ORM spends
# several times longer compiling this query (and a RawQuerySet setting itself up)
# than the database takes to answer it (docs/performance.md). Served by the
# (contact, channel, status) index.
@cache
def _active_conversation_sql(vendor: str) -> tuple[str, list[tuple[Any, list[Any]]]]:
    fields = Conversation._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    # The ACTIVE_STATUSES; the column names come from the model.
    sql = (
        f"SELECT {columns} FROM conversations_conversation WHERE contact_id = %s AND channel_id = %s"  # noqa: S608
        " AND status IN (%s, %s, %s) ORDER BY created_at DESC LIMIT 1"
    )
    columns_ = [field.get_col(Conversation._meta.db_table) for field in fields]
    converters = [(col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)) for col in columns_]
    return sql, converters


def _conversation_from_row(row: tuple[Any, ...], converters: list[tuple[Any, list[Any]]]) -> Conversation:
    """A row as the ORM would build it (its converters, `from_db`)."""
    values = list(row)
    for i, (col, funcs) in enumerate(converters):
        for func in funcs:
            values[i] = func(values[i], col, connection)
    return Conversation.from_db(connection.alias, [col.target.attname for col, _funcs in converters], values)


def _lock_contact(contact: Contact) -> None:
    """Queue the contact's concurrent messages here, so that of two arriving together
    for a contact with no open conversation, the second joins the one the first
    opens instead of opening another. PostgreSQL only: SQLite's IMMEDIATE
    transactions already hold the database's write lock from BEGIN. In a batch of the
    inbound pipeline, the batch's known senders are locked together, in the order of
    their ids, with one statement (the locks hold until the batch commits)."""
    if not connection.features.has_select_for_update:
        return
    if batch.active():
        locked = batch.memo(("intake.locked", contact.organization_id), lambda: _lock_known(contact.organization_id))
        if contact.pk in locked:
            return
        locked.add(contact.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM contacts_contact WHERE id = %s FOR UPDATE", [contact.pk])


def _known_contacts(organization_id: int) -> dict[int, Contact]:
    """The batch's senders found in the database (adesso.contacts.actions.prefetch_contacts), by id."""
    known: dict[Any, Contact | None] = batch.memo(("contacts.known", organization_id), dict)
    return {c.pk: c for c in known.values() if c is not None and c.pk is not None}


def _lock_known(organization_id: int) -> set[int]:
    ids = sorted(_known_contacts(organization_id))
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM contacts_contact WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids]
            )
    return set(ids)


def _threaded_conversation(contact: Contact, channel: Channel, code: str) -> Conversation | None:
    """The conversation a channel says this message answers (email threading), if it
    is in this channel; a resolved one is reopened by the message. A mail may also
    answer a web chat's reply mailed to a visitor who left (adesso/channels/webchat/
    offline.py): it joins that conversation (which stays the chat's)."""
    found = Conversation.objects.select_related("assignee").filter(code=code, organization_id=channel.organization_id)
    if channel.kind == "email":
        found = found.filter(Q(channel_id=channel.pk) | Q(channel__kind="webchat"))
    else:
        found = found.filter(channel_id=channel.pk)
    conversation = found.first()
    if conversation is not None:
        conversation.channel = channel
    return conversation


def _active_conversation(contact: Contact, channel: Channel) -> Conversation | None:
    """The contact's conversation on this channel that a new message joins, if any.
    In a batch of the inbound pipeline, from the batch's own record (`_batch_conversations`)."""
    if batch.active():
        found = _batch_conversations(channel)
        key = _contact_key(contact)
        if key in found:
            return found[key]
        if contact.pk is None:
            return None  # created in this batch, and no conversation of its own yet
        if batch.deferring():
            batch.flush_inserts()  # what the batch keeps for later must be in the database
    sql, converters = _active_conversation_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [contact.pk, channel.pk, *ACTIVE_STATUSES])
        row = cursor.fetchone()
    if row is None:
        return None
    conversation = _conversation_from_row(row, converters)
    # Already loaded: reading them later (SLA, events) costs no query.
    conversation.contact, conversation.channel = contact, channel
    return conversation


def _contact_key(contact: Contact) -> Any:
    # A contact the batch created has no id until the batch's flush: the object itself.
    return contact.pk if contact.pk is not None else ("new", id(contact))


# Contacts whose open conversations one statement looks up (well inside every
# database's limit on parameters).
_PREFETCH_CHUNK = 500


def _batch_conversations(channel: Channel) -> dict[Any, Conversation | None]:
    """In a batch: each sender's conversation on this channel that a message joins (None:
    none open), read for all the batch's known senders with one statement, then kept up
    to date by the batch's messages (`_remember`)."""
    return batch.memo(("intake.active", channel.pk), lambda: _prefetch_active(channel))  # type: ignore[no-any-return]


def _prefetch_active(channel: Channel) -> dict[Any, Conversation | None]:
    contacts = _known_contacts(channel.organization_id)
    found: dict[Any, Conversation | None] = dict.fromkeys(contacts)
    ids = list(contacts)
    sql, converters = _active_conversation_sql(connection.vendor)
    # The same columns and converters as the one-contact statement, for many contacts.
    head = sql.split(" WHERE ", 1)[0]
    for start in range(0, len(ids), _PREFETCH_CHUNK):
        chunk = ids[start : start + _PREFETCH_CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"{head} WHERE channel_id = %s AND status IN (%s, %s, %s) AND contact_id IN ({marks})"
                " ORDER BY created_at",
                [channel.pk, *ACTIVE_STATUSES, *chunk],
            )
            rows = cursor.fetchall()
        for row in rows:
            conversation = _conversation_from_row(row, converters)
            # The latest one wins, as in the one-contact statement.
            conversation.contact, conversation.channel = contacts[conversation.contact_id], channel
            found[conversation.contact_id] = conversation
    return found


def _remember(contact: Contact, channel: Channel, conversation: Conversation, threaded: bool) -> None:
    """The batch's record of the sender's conversation, after a message of theirs."""
    if not batch.active():
        return
    found = _batch_conversations(channel)
    key = _contact_key(contact)
    if not threaded and conversation.channel_id == channel.pk and conversation.status in ACTIVE_STATUSES:
        found[key] = conversation
    else:
        # Not the one a plain message would join (a thread, a survey's resolved one): ask
        # the database next time (this message's rows are in it: it did not defer).
        found.pop(key, None)


def _receive(channel: Channel, inbound: InboundMessage) -> Received:
    with transaction.atomic():
        return _receive_rows(channel, inbound)


def _receive_rows(channel: Channel, inbound: InboundMessage) -> Received:
    now = timezone.now()
    if inbound.received_at is not None and inbound.received_at < now:
        now = inbound.received_at  # accepted earlier, processed now: the wait began then
    html = sanitize_html(inbound.html) if inbound.html else ""
    text = inbound.text.strip() or (html_to_text(html) if html else "")
    preview = summary(text or _("(attachment)"))
    # In a batch applied optimistically, a plain message's new rows (the sender's contact,
    # conversation, the message) wait for the batch's flush: one INSERT per table for the
    # batch. A message that must find rows in the database (a thread) or write beside them
    # (attachments) has them flushed first and writes its own at once.
    defer = batch.deferring() and not (inbound.thread or inbound.new_thread or inbound.attachments)
    if batch.deferring() and not defer:
        batch.flush_inserts()
    contact = do_resolve_contact(channel, inbound.sender, defer=defer)
    # A contact this message created has no conversation to look for, and nobody else
    # sees it before commit: no lock (the flag holds for this message only). Nor does one
    # an earlier message of the batch created (no id yet: it waits for the flush).
    new_contact, contact.is_new = getattr(contact, "is_new", False), False  # type: ignore[attr-defined]
    unsaved = contact.pk is None
    if not new_contact and not unsaved:
        _lock_contact(contact)
    conversation = _threaded_conversation(contact, channel, inbound.thread) if inbound.thread else None
    if conversation is None and not inbound.new_thread and not new_contact:
        conversation = _active_conversation(contact, channel)
    survey = None
    if (
        not inbound.automated
        and not new_contact
        and not unsaved
        and (conversation is None or conversation.status == Status.RESOLVED)
    ):
        # An answer to the survey of a resolved conversation joins it without reopening it.
        survey = surveys.awaiting(contact, channel, conversation, text, now)
        if survey is not None:
            conversation = survey.conversation
            conversation.contact, conversation.channel = contact, channel
    last = conversation.last_customer_message_at if conversation is not None else None
    if last is not None and now < last:
        now = last  # accepted before the message processed just ahead of it: keep the provider's order
    events: list[tuple[str, dict[str, Any] | None]] = []
    turn_starts = survey is None and (conversation is None or conversation.waiting_since is None)
    pool: list[Candidate] | None = None  # the online agents, when routing looked
    auto_assign = routing.auto_assign_enabled(channel.organization_id)
    if conversation is None:
        # Born with the message's summary, its SLA clock and its agent (or its place in
        # the queue): no second write to the new row.
        conversation = rowsql.new(
            Conversation,
            organization_id=channel.organization_id,
            channel=channel,
            contact=contact,
            language=contact.language or detect_language(text),
            created_at=now,
            updated_at=now,
            waiting_since=now,
            last_customer_message_at=now,
            last_message_preview=preview,
            subject=inbound.subject[:300],
        )
        sla.refresh(conversation, now, reselect=True)
        routed: list[tuple[str, dict[str, Any] | None]] = []
        if auto_assign:
            pool = candidates(channel.organization_id, with_teams=False)
            routed = routing.route(conversation, now, pool)[1]
        if not (defer and batch.insert_later(conversation)):
            rowsql.insert(conversation)
        events.append((EventKind.CREATED, {"channel": channel.code}))
        events += routed
    elif survey is not None:
        conversation.last_customer_message_at = conversation.updated_at = now
        conversation.last_message_preview = preview
        conversation.save(update_fields=["last_customer_message_at", "last_message_preview", "updated_at"])
    else:
        fields = ["last_customer_message_at", "last_message_preview", "updated_at"]
        conversation.last_customer_message_at = now
        conversation.last_message_preview = preview
        conversation.updated_at = now
        if conversation.waiting_since is None:
            conversation.waiting_since = now
            fields.append("waiting_since")
        reopened = conversation.status != Status.OPEN
        if reopened:
            # The customer wrote again: whatever we were waiting for, it is our turn.
            events.append(
                (
                    EventKind.STATUS_CHANGED,
                    {"from": conversation.status, "to": Status.OPEN, "reason": "customer_message"},
                )
            )
            conversation.status = Status.OPEN
            conversation.snoozed_until = None
            fields += ["status", "snoozed_until"]
        if auto_assign and (conversation.assignee_id is None or reopened):
            # A reopened conversation goes back to the agent who had it when they are
            # online with room; else to whoever routing finds (or the queue).
            pool = candidates(channel.organization_id, with_teams=conversation.team_id is not None)
            changed, routed = routing.route(conversation, now, pool)
            fields += changed
            events += routed
        fields += sla.refresh(conversation, now)
        # A conversation the batch inserts, or keeps to update, when it flushes: with these
        # values then (the batch's messages share the one object).
        if conversation.pk is not None and not (defer and batch.update_row_later(conversation, fields)):
            rowsql.update(conversation, fields)
    # A repeated external id fails here, on the unique constraint, and rolls back
    # everything above (see do_receive_message).
    message = rowsql.new(
        Message,
        organization_id=channel.organization_id,
        conversation=conversation,
        channel=channel,
        direction=Direction.INCOMING,
        external_id=inbound.external_id,
        text=text,
        html=html,
        created_at=now,
        sent_at=inbound.sent_at,
        # The code promised on accept (the API kind's 202), else a new one.
        **({"code": inbound.code} if inbound.code else {}),
    )
    if not (defer and survey is None and batch.insert_later(message)):
        rowsql.insert(message)
    for item in inbound.attachments:
        attachment = Attachment(
            organization_id=channel.organization_id,
            message=message,
            filename=item.filename,
            content_type=item.content_type,
            size=len(item.content),
        )
        attachment.file.save(item.filename, ContentFile(item.content), save=False)
        attachment.save()
    events.append((EventKind.MESSAGE_RECEIVED, {"message": message.code}))
    record_events(conversation, events)
    _remember(contact, channel, conversation, threaded=bool(inbound.thread) or survey is not None)
    if survey is not None:
        surveys.do_record_answer(survey, message, now)
    if turn_starts:
        # Routing just handed it to an online agent: the estimate need not ask again.
        routed_online = any(kind == EventKind.ASSIGNED for kind, _data in events) or None
        acknowledge(
            conversation,
            text,
            now,
            automated=inbound.automated,
            assignee_online=routed_online,
            agents_online=None if pool is None else len(pool),
        )
    return Received(conversation, message, created=True)
