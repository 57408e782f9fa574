"""Right to erasure: a contact's personal data removed everywhere, the figures kept.

What goes (docs/privacy.md has the table): the contact's name, addresses, notes and
identities; in each of its conversations every message's text and HTML, the
attachments (rows and files), the original mails (rows and .eml files), subjects and
previews, notifications; the raw inbound events that carried its messages or name its
addresses; outbox errors, event details and other free text that name it. What stays:
the rows of contacts, conversations and messages with their times, statuses,
directions, channels and assignees, so reports count them as before. PostgreSQL's
search index is an expression index on the message text: emptying the text updates it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.accounts.models import User
from adesso.audit import events as audit
from adesso.channels.email.models import Mail, Quarantine
from adesso.channels.models import Channel, InboundEvent
from adesso.contacts.models import Contact, ContactIdentity, ContactMerge
from adesso.conversations.models import Attachment, Conversation, ConversationEvent, Message
from adesso.lib.errors import ActionError
from adesso.notifications.models import Notification
from adesso.outbox.models import Delivery

ERASED = "[erased]"
# Keys of event data that hold free text about the customer.
TEXT_KEYS = {"text", "preview", "body", "subject", "note", "name", "email", "phone", "display_name"}


class Terms:
    """The contact's names and addresses, matched case-insensitively in text and bytes."""

    def __init__(self, values: Iterable[str], names: Iterable[str] = ()) -> None:
        self.values = sorted({v.strip().lower() for v in values if v and len(v.strip()) >= 3})
        escaped = {json.dumps(v)[1:-1] for v in self.values}  # as JSON writes non-ASCII
        self.raw = [v.encode() for v in {*self.values, *escaped}]
        # Each part of a name ("Bianchi" of "Mario Bianchi"): matched only inside the
        # contact's own conversations, where a surname alone still means the contact.
        self.parts = sorted({p for n in names for p in n.lower().split() if len(p) >= 3} - set(self.values))

    def __bool__(self) -> bool:
        return bool(self.values)

    def in_text(self, text: str) -> bool:
        lowered = text.lower()
        return any(v in lowered for v in self.values)

    def in_bytes(self, data: bytes) -> bool:
        lowered = data.lower()
        return any(v in lowered for v in self.raw)

    def _has_part(self, text: str) -> bool:
        words = set(text.lower().replace(",", " ").replace(".", " ").replace(":", " ").split())
        return any(p in words for p in self.parts)

    def scrub(self, value: Any, key: str = "") -> Any:
        """JSON data with every string naming the contact (or under a free-text key) erased."""
        if isinstance(value, dict):
            return {k: self.scrub(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v, key) for v in value]
        if isinstance(value, str) and value and (key in TEXT_KEYS or self.in_text(value) or self._has_part(value)):
            return ERASED
        return value


def _people(contact: Contact) -> list[Contact]:
    """The contact and every contact merged into it (the same person), at any depth."""
    found = [contact]
    frontier = [contact.pk]
    while frontier:
        more = list(Contact.objects.filter(merged_into_id__in=frontier))
        found.extend(more)
        frontier = [c.pk for c in more]
    return found


def _terms(people: list[Contact]) -> Terms:
    values: list[str] = []
    for person in people:
        values += [person.name, person.email, person.phone]
        if person.phone.startswith("+"):
            values.append(person.phone[3:])  # the national number, as people write it
    values += ContactIdentity.objects.filter(contact__in=people).values_list("value", flat=True)
    return Terms(values, names=[p.name for p in people])


def delete_files(names: list[str]) -> None:
    """After commit: the files, and the per-file directories storage made for them."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            continue
        try:  # attachments/<org>/<random>/<name>: the random directory held only this file
            path = default_storage.path(os.path.dirname(name))
            if os.path.isdir(path) and not os.listdir(path):
                os.rmdir(path)
        except (NotImplementedError, OSError):
            pass


def _scrub_inbound(organization_id: int, terms: Terms) -> int:
    """Raw events that name the contact's addresses anywhere in their body, headers or
    notes (an edit, a status, an event that made no message): emptied, the row kept as
    the pipeline's record. Reads every raw event of the organisation once, in chunks:
    erasure is rare, and retention keeps this table short."""
    erased = 0
    qs = InboundEvent.objects.filter(organization_id=organization_id).only(
        "pk", "body", "headers", "sender_key", "external_id", "note", "error", "message_code"
    )
    for event in qs.iterator(chunk_size=500):
        body = bytes(event.body or b"")
        hit = (
            terms.in_bytes(body)
            or terms.in_text(json.dumps(event.headers, ensure_ascii=False))
            or terms.in_text(f"{event.sender_key} {event.external_id} {event.note} {event.error}")
        )
        if not hit:
            continue
        fields: dict[str, Any] = {"body": b"", "headers": {}, "sender_key": "", "note": "", "error": ""}
        if terms.in_text(event.external_id):
            fields["external_id"] = f"erased-{event.pk}"
        InboundEvent.objects.filter(pk=event.pk).update(**fields)
        erased += 1
    return erased


def _scrub_quarantine(organization_id: int, terms: Terms, files: list[str]) -> int:
    """Mails that never became messages but name the contact: deleted with their files."""
    gone = 0
    for held in Quarantine.objects.filter(organization_id=organization_id).exclude(raw=""):
        try:
            with default_storage.open(held.raw.name or "", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if terms.in_bytes(raw) or terms.in_text(held.reason):
            files.append(held.raw.name or "")
            held.delete()
            gone += 1
    return gone


def empty_conversations(conversation_ids: list[int], terms: Terms, files: list[str]) -> dict[str, int]:
    """The personal content of these conversations removed, the rows kept (call inside a
    transaction; the files named in `files` are for the caller to delete after commit).
    Also what retention does to old resolved conversations."""
    conversations = Conversation.objects.filter(pk__in=conversation_ids)
    messages = Message.objects.filter(conversation_id__in=conversation_ids)
    message_ids = list(messages.values_list("pk", flat=True))
    message_codes = set(messages.values_list("code", flat=True))
    attachments = Attachment.objects.filter(message_id__in=message_ids)
    files += [a.file.name for a in attachments if a.file.name]
    mails = Mail.objects.filter(message_id__in=message_ids)
    files += [m.raw.name for m in mails if m.raw.name]
    counts = {
        "conversations": len(conversation_ids),
        "messages": len(message_ids),
        "attachments": attachments.delete()[1].get("conversations.Attachment", 0),
        "mails": mails.delete()[1].get("email_channel.Mail", 0),
    }
    messages.exclude(text="", html="").update(text="", html="")
    if terms:
        for message in messages.filter(external_id__isnull=False).only("pk", "external_id"):
            if terms.in_text(message.external_id or ""):
                Message.objects.filter(pk=message.pk).update(external_id=None)
    conversations.update(subject="", last_message_preview="")
    for event in ConversationEvent.objects.filter(conversation_id__in=conversation_ids).only("pk", "data"):
        scrubbed = terms.scrub(event.data)
        if scrubbed != event.data:
            ConversationEvent.objects.filter(pk=event.pk).update(data=scrubbed)
    counts["notifications"] = Notification.objects.filter(conversation_id__in=conversation_ids).delete()[0]
    Delivery.objects.filter(message_id__in=message_ids).exclude(last_error="").update(last_error="")
    # The raw events that carried these messages (by the code intake gave the message).
    raw = InboundEvent.objects.filter(message_code__in=message_codes) if message_codes else InboundEvent.objects.none()
    counts["inbound_events"] = raw.update(body=b"", headers={}, sender_key="", note="", error="")
    return counts


def do_erase_contact(actor: User | None, contact: Contact) -> dict[str, int]:
    """Erase `contact` (and the contacts merged into it). Returns what was erased, counted.

    One transaction for the rows; the files are deleted once it commits. Erasing twice
    is harmless: the second finds nothing left to erase.
    """
    if contact.merged_into_id is not None:
        raise ActionError(_("This contact was merged into another: erase the contact it was merged into."), "merged")
    people = _people(contact)
    terms = _terms(people)
    org_id = contact.organization_id
    files: list[str] = []
    with transaction.atomic():
        conversation_ids = list(Conversation.objects.filter(contact__in=people).values_list("pk", flat=True))
        counts = empty_conversations(conversation_ids, terms, files)
        for channel in Channel.objects.filter(organization_id=org_id).exclude(disabled_reason=""):
            if terms.in_text(channel.disabled_reason):
                Channel.objects.filter(pk=channel.pk).update(disabled_reason=ERASED)
        counts["inbound_events"] += _scrub_inbound(org_id, terms) if terms else 0
        counts["quarantined_mails"] = _scrub_quarantine(org_id, terms, files) if terms else 0
        ContactMerge.objects.filter(Q(source__in=people) | Q(target__in=people)).update(target_before={})
        counts["identities"] = ContactIdentity.objects.filter(contact__in=people).delete()[0]
        now = timezone.now()
        Contact.objects.filter(pk__in=[p.pk for p in people]).update(
            name="",
            email="",
            phone="",
            language="",
            notes="",
            processing_notes="",
            consent_source="",
            erased_at=now,
            updated_at=now,
        )
        audit.contact_erased(actor=actor, contact=contact, counts=counts)
        transaction.on_commit(lambda: delete_files(files))
    contact.refresh_from_db()
    return counts
