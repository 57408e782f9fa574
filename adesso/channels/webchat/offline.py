"""When nobody is there: the visitor is told honestly when the answer will come and may
leave an email address (or a phone number, to be called back); an agent's reply to a
visitor who has gone away is mailed too.

- Presence of the visitor: every look of theirs (GET .../messages, the socket's
  polls) marks them seen in the `shared` cache (Redis, or files under ADESSO_VAR_DIR:
  the web, live and worker processes all see it); a visitor not seen for
  `away_seconds()` (ADESSO_WEBCHAT_AWAY_SECONDS, 60) is away.
- Nobody online: the acknowledgement's estimate was made on the SLA's own limit
  (autoreply's `basis` "sla") and no agent of the organisation is online; the widget
  shows `offline_note` under it and a form for an email address.
- The mail goes through the site's mail backend (EMAIL_BACKEND, DEFAULT_FROM_EMAIL),
  subject `Re: <subject> [#<conversation code>]` as the email channel writes it; when
  the organisation has an email channel its address is the Reply-To, so the customer's
  answer reaches that channel, which threads it by the subject's code.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import caches
from django.core.mail import EmailMessage

from adesso.lib.addresses import normalize_email, normalize_phone

if TYPE_CHECKING:
    from adesso.channels.models import Channel
    from adesso.conversations.models import Conversation, Message

log = logging.getLogger(__name__)
AWAY_SECONDS = 60
# Written in the customer's language, not gettext (as autoreply's templates).
OFFLINE_NOTE = {
    "it": (
        "In questo momento nessuno del team è in linea: ti risponderemo entro {estimate} "
        "(verso le {time}). Lasciaci la tua email e la risposta arriverà anche lì, "
        "oppure un numero di telefono per essere richiamato."
    ),
    "en": (
        "Nobody from our team is online right now: we will answer within {estimate} "
        "(by about {time}). Leave your email address and the answer will reach you there too, "
        "or a phone number to be called back."
    ),
}


def away_seconds() -> int:
    return int(getattr(settings, "ADESSO_WEBCHAT_AWAY_SECONDS", AWAY_SECONDS))


def _seen_key(channel_id: int, sender: str) -> str:
    return f"webchat:seen:{channel_id}:{sender}"


def mark_seen(channel_id: int, sender: str) -> None:
    caches["shared"].set(_seen_key(channel_id, sender), time.time(), timeout=away_seconds() * 2 + 60)


def is_away(channel: Channel, senders: list[str]) -> bool:
    """No window of the contact's looked in the last `away_seconds()`."""
    if not senders:
        return True
    seen = caches["shared"].get_many([_seen_key(channel.pk, s) for s in senders])
    limit = time.time() - away_seconds()
    return not any(isinstance(at, float) and at >= limit for at in seen.values())


def offline_note(language: str, created_at: dt.datetime, data: dict[str, Any]) -> str:
    """The honest sentence under an acknowledgement made with nobody online."""
    from adesso.autoreply.texts import clock, duration

    language = language if language in OFFLINE_NOTE else "it"
    try:
        promise_at = dt.datetime.fromisoformat(str(data["promise_at"]))
    except (KeyError, ValueError):
        return ""
    minutes = max(1, round((promise_at - created_at).total_seconds() / 60))
    return OFFLINE_NOTE[language].format(
        estimate=duration(minutes, language), time=clock(promise_at, created_at, language)
    )


def offline_notes(organization_id: int, conversation_ids: set[int], codes: list[str]) -> dict[str, str]:
    """message code -> offline note, for the acknowledgements among `codes` made with
    nobody online (a query or two, only when a page holds automatic messages)."""
    from adesso.conversations.models import ConversationEvent, EventKind

    if not codes:
        return {}
    notes = {}
    rows = ConversationEvent.objects.filter(
        organization_id=organization_id,
        conversation_id__in=conversation_ids,
        kind=EventKind.AUTO_SENT,
        data__message__in=codes,
    ).values_list("data", "created_at")
    for data, created_at in rows:
        if isinstance(data, dict) and data.get("basis") == "sla" and data.get("purpose") == "ack":
            note = offline_note(str(data.get("language") or ""), created_at, data)
            if note:
                notes[str(data["message"])] = note
    # "sla" is also the basis of a conversation no routing queued: say "nobody is online"
    # only when nobody is (looked at now, once a page).
    if notes and _anyone_online(organization_id):
        return {}
    return notes


def _anyone_online(organization_id: int) -> bool:
    from adesso.accounts.models import Presence, User

    return User.objects.filter(organization_id=organization_id, is_active=True, presence=Presence.ONLINE).exists()


def leave_email(channel: Channel, contact: int, raw: Any) -> str | None:
    """Keep the address the visitor left as an `email` identity of their contact; the
    normalised address, or None when it is not one (nothing stored)."""
    from adesso.contacts.models import Contact, ContactIdentity

    address = normalize_email(raw) if isinstance(raw, str) else ""
    if not address:
        return None
    taken = (
        ContactIdentity.objects.filter(organization_id=channel.organization_id, kind="email", value=address)
        .values_list("contact_id", flat=True)
        .first()
    )
    if taken is None:
        ContactIdentity.objects.get_or_create(
            organization_id=channel.organization_id, kind="email", value=address, defaults={"contact_id": contact}
        )
    # An address already known for another contact is not merged on the visitor's word
    # (it would join a stranger's history): it is only where this contact's answer goes.
    Contact.objects.filter(pk=contact, organization_id=channel.organization_id).update(email=address)
    return address


# What a visitor may type as a phone number: digits and the usual separators, nothing else.
PHONE = re.compile(r"^\+?[\d\s().\-/]{6,30}$")


def leave_phone(channel: Channel, contact: int, raw: Any) -> str | None:
    """Keep a phone number the visitor left instead of an email (nobody online: to be
    called back) as a `phone` identity of their contact and the contact's `phone`, as
    `leave_email` does; the E.164 number, or None when it is not one (nothing stored)."""
    from adesso.contacts.models import Contact, ContactIdentity

    number = normalize_phone(raw) if isinstance(raw, str) and PHONE.match(raw.strip()) else ""
    if not number:
        return None
    taken = ContactIdentity.objects.filter(organization_id=channel.organization_id, kind="phone", value=number).exists()
    if not taken:
        ContactIdentity.objects.get_or_create(
            organization_id=channel.organization_id, kind="phone", value=number, defaults={"contact_id": contact}
        )
    # Another customer's number is not merged on the visitor's word (as with an email).
    Contact.objects.filter(pk=contact, organization_id=channel.organization_id).update(phone=number)
    return number


def contact_email(conversation: Conversation) -> str:
    """Where the answer goes: what the visitor left last (the contact's email)."""
    from adesso.contacts.models import Contact

    found = (
        Contact.objects.filter(pk=conversation.contact_id, organization_id=conversation.organization_id)
        .values_list("email", flat=True)
        .first()
    )
    return found or ""


def _reply_to(channel: Channel, conversation: Conversation) -> str:
    """The organisation's email channel's address (plus-addressed with the conversation's
    code when it uses that), or "" when it has none."""
    from adesso.channels.email.config import EmailConfig
    from adesso.channels.models import Channel as ChannelModel

    found = (
        ChannelModel.objects.filter(organization_id=channel.organization_id, kind="email", is_enabled=True)
        .order_by("pk")
        .first()
    )
    if found is None:
        return ""
    try:
        config = EmailConfig.model_validate(found.config)
    except ValueError:
        return ""
    address = config.reply_address(conversation.code) if config.plus_address else config.address
    return email.utils.formataddr((config.from_name, address))


def mail_if_away(channel: Channel, message: Message, senders: list[str]) -> bool:
    """Mail an agent's reply when the visitor is away and left an address; True if sent."""
    from adesso.channels.email.threads import reply_subject

    if message.auto or message.internal or not is_away(channel, senders):
        return False
    conversation = message.conversation
    to = contact_email(conversation)
    if not to:
        return False
    company = str(channel.config.get("company_name") or channel.name)
    _name, sender = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    reply_to = _reply_to(channel, conversation)
    mail = EmailMessage(
        subject=reply_subject(conversation.subject, conversation.code),
        body=message.text,
        from_email=email.utils.formataddr((company, sender or "adesso@localhost")),
        to=[to],
        reply_to=[reply_to] if reply_to else None,
    )
    for item in message.attachments.order_by("pk"):  # the agent's files too
        with item.file.open("rb") as handle:
            mail.attach(item.filename, handle.read(), item.content_type)
    mail.send()
    return True
