"""Right of access: everything Adesso holds about a contact, as a ZIP streamed in pieces.

The archive is written into a small buffer that is emptied after every piece, so a
contact with thousands of messages and large attachments never sits in memory whole:
`stream_export` yields bytes as they are made (Django's StreamingHttpResponse sends them).
Layout (README.txt in the archive says it again, in Italian and English):

    contact.json                 the contact, identities, consent, notes, merges
    conversations/<code>.json    one per conversation: messages, events, tags
    attachments/<conversation>/<attachment code>-<file name>
    mails/<code>.eml             original mails received or sent (email channels)
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Q

from adesso.channels.email.models import Mail
from adesso.contacts.models import Contact, ContactMerge
from adesso.conversations.models import Attachment, Conversation, ConversationEvent, Message
from adesso.privacy.models import privacy_of
from adesso.privacy.redact import redact

CHUNK = 64 * 1024

README = """Adesso: export of contact {code} ({when})

contact.json                the contact, its addresses (identities), consent, notes, merges
conversations/<code>.json   each conversation: messages (text and HTML), events, tags
attachments/...             the files sent and received in them
mails/<code>.eml            the original emails, as received or sent
{redacted_en}
Esportazione del contatto {code} ({when})

contact.json                il contatto, i suoi indirizzi (identità), consenso, note, unioni
conversations/<codice>.json ogni conversazione: messaggi (testo e HTML), eventi, etichette
attachments/...             i file inviati e ricevuti
mails/<codice>.eml          le email originali, come ricevute o inviate
{redacted_it}"""


class _Buffer(io.RawIOBase):
    """A write-only, unseekable sink: zipfile then writes data descriptors and never seeks."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


class _Texts:
    """Message texts as the export shows them: whole, or redacted for a third party."""

    def __init__(self, kinds: list[str] | None) -> None:
        self.kinds = kinds

    def __call__(self, value: Any) -> Any:
        if self.kinds is None:
            return value
        if isinstance(value, str):
            return redact(value, self.kinds)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def contact_data(contact: Contact, texts: _Texts) -> dict[str, Any]:
    merges = ContactMerge.objects.filter(Q(source=contact) | Q(target=contact)).select_related("source", "target")
    return {
        "code": contact.code,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "language": contact.language,
        "tier": contact.tier,
        "notes": texts(contact.notes),
        "consent": contact.consent,
        "consent_at": _iso(contact.consent_at),
        "consent_source": contact.consent_source,
        "processing_notes": texts(contact.processing_notes),
        "created_at": _iso(contact.created_at),
        "updated_at": _iso(contact.updated_at),
        "erased_at": _iso(contact.erased_at),
        "identities": [
            {"kind": i.kind, "value": i.value, "created_at": _iso(i.created_at)}
            for i in contact.identities.order_by("kind", "value")
        ],
        "merged_contacts": [
            {
                "code": m.source.code if m.target_id == contact.pk else m.target.code,
                "role": "merged_into_this" if m.target_id == contact.pk else "merged_into_other",
                "created_at": _iso(m.created_at),
                "undone_at": _iso(m.undone_at),
            }
            for m in merges
        ],
    }


def _attachment_name(conversation: Conversation, attachment: Attachment) -> str:
    return f"attachments/{conversation.code}/{attachment.code}-{(attachment.file.name or '').rsplit('/', 1)[-1]}"


def conversation_data(conversation: Conversation, texts: _Texts, files: bool) -> dict[str, Any]:
    messages = (
        Message.objects.filter(conversation=conversation)
        .select_related("author", "channel")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    events = (
        ConversationEvent.objects.filter(conversation=conversation).select_related("actor").order_by("created_at", "pk")
    )
    return {
        "code": conversation.code,
        "channel": {
            "code": conversation.channel.code,
            "kind": conversation.channel.kind,
            "name": conversation.channel.name,
        },
        "status": conversation.status,
        "priority": conversation.priority,
        "subject": texts(conversation.subject),
        "language": conversation.language,
        "tags": list(conversation.tag_names),
        "created_at": _iso(conversation.created_at),
        "resolved_at": _iso(conversation.resolved_at),
        "messages": [
            {
                "code": m.code,
                "direction": m.direction,
                "internal": m.internal,
                "automatic": m.auto,
                "author": m.author.display_name if m.author else None,
                "text": texts(m.text),
                "html": texts(m.html),
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
                "delivery_status": m.delivery_status,
                "attachments": [
                    {
                        "code": a.code,
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "size": a.size,
                        "file": _attachment_name(conversation, a) if files else None,
                    }
                    for a in m.attachments.all()
                ],
            }
            for m in messages.iterator(chunk_size=500)
        ],
        "events": [
            {
                "kind": e.kind,
                "actor": e.actor.display_name if e.actor else None,
                "data": texts(e.data),
                "created_at": _iso(e.created_at),
            }
            for e in events.iterator(chunk_size=1000)
        ],
    }


def _copy(zf: zipfile.ZipFile, sink: _Buffer, storage_name: str, arcname: str) -> Iterator[bytes]:
    """One stored file into the archive, a chunk at a time. A file missing from storage is
    noted in the archive instead of failing the whole export."""
    try:
        source = default_storage.open(storage_name, "rb")
    except (FileNotFoundError, OSError):
        zf.writestr(arcname + ".missing.txt", "The file was not found in storage.\n")
        yield sink.take()
        return
    with source, zf.open(arcname, "w", force_zip64=True) as target:
        while chunk := source.read(CHUNK):
            target.write(chunk)
            yield sink.take()
    yield sink.take()


def stream_export(contact: Contact, redacted: bool = False) -> Iterator[bytes]:
    """The ZIP's bytes, piece by piece. Redacted (for a third party): texts pass through the
    organisation's redaction (adesso.privacy.redact) and files are listed, not included."""
    kinds = privacy_of(contact.organization_id).redact_kinds if redacted else None
    texts = _Texts(list(kinds) if kinds is not None else None)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sink = _Buffer()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        note_en = "\nTexts are redacted and files left out: this export is for a third party.\n" if redacted else ""
        note_it = "\nTesti oscurati e file esclusi: esportazione per terzi.\n" if redacted else ""
        zf.writestr("README.txt", README.format(code=contact.code, when=now, redacted_en=note_en, redacted_it=note_it))
        zf.writestr("contact.json", json.dumps(contact_data(contact, texts), ensure_ascii=False, indent=2))
        yield sink.take()
        conversations = Conversation.objects.filter(contact=contact).select_related("channel").order_by("created_at")
        for conversation in conversations.iterator(chunk_size=100):
            data = conversation_data(conversation, texts, files=not redacted)
            zf.writestr(f"conversations/{conversation.code}.json", json.dumps(data, ensure_ascii=False, indent=2))
            yield sink.take()
            if redacted:
                continue
            attachments = Attachment.objects.filter(message__conversation=conversation).order_by("pk")
            for attachment in attachments.iterator(chunk_size=100):
                yield from _copy(zf, sink, attachment.file.name or "", _attachment_name(conversation, attachment))
            mails = Mail.objects.filter(message__conversation=conversation).exclude(raw="").order_by("pk")
            for mail in mails.iterator(chunk_size=100):
                yield from _copy(zf, sink, mail.raw.name or "", f"mails/{mail.code}.eml")
    yield sink.take()


def export_summary(contact: Contact) -> dict[str, int]:
    """What the export will hold, counted (the page shown before downloading)."""
    conversations = Conversation.objects.filter(contact=contact)
    return {
        "identities": contact.identities.count(),
        "conversations": conversations.count(),
        "messages": Message.objects.filter(conversation__contact=contact).count(),
        "attachments": Attachment.objects.filter(message__conversation__contact=contact).count(),
        "events": ConversationEvent.objects.filter(conversation__contact=contact).count(),
        "mails": Mail.objects.filter(message__conversation__contact=contact).exclude(raw="").count(),
    }


def export_filename(contact: Contact) -> str:
    return f"adesso-contact-{contact.code}.zip"
