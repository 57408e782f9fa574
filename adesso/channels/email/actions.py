"""Every state change of the email channel.

Accept side (a webhook's request, the IMAP reader): `do_accept_mail` stores the raw
mail as an inbound event with one INSERT (adesso/channels/pipeline.py). Worker side:
`mail_events` parses it into normalised events (a customer's message, a bounce's
status update, or a copy of our own mail to ignore), and `do_apply_mail` stores each
with the mail kept whole and its threading headers, in the pipeline's transaction.
A mail that can never be a message raises InboundError and the pipeline quarantines
the event, with the reason, for an admin to see and replay."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.channels.base import (
    EventIdentity,
    Ignored,
    InboundError,
    InboundMessage,
    InboundSender,
    Normalised,
    StatusUpdate,
)
from adesso.channels.email.config import EmailConfig
from adesso.channels.email.dsn import Bounce
from adesso.channels.email.models import Mail, MailKind
from adesso.channels.email.parse import MailError, ParsedMail, digest, parse_mail
from adesso.channels.email.quote import visible_text
from adesso.channels.email.threads import decode_our_id, find_thread
from adesso.channels.models import Channel, InboundEvent
from adesso.contacts.models import Contact
from adesso.conversations.events import record_event
from adesso.conversations.models import DeliveryStatus, Direction, EventKind, Message
from adesso.intake.actions import do_receive_message
from adesso.lib.addresses import normalize_email

log = logging.getLogger(__name__)

# A bounce that names only the failed address refers to our mail of this long ago at most.
BOUNCE_WINDOW = dt.timedelta(days=7)
# Larger mail is quarantined, whole, instead of being parsed.
MAX_MAIL_BYTES = 50 * 1024 * 1024
# Where the worker keeps what it parsed with each normalised event (not a field: the
# normalised event stays what every kind's `parse` returns, as the fixtures say).
_CONTEXT = "_email_context"


@dataclass
class MailContext:
    raw: bytes
    parsed: ParsedMail
    how: str = ""  # how a message was threaded


@dataclass
class Applied:
    kind: str  # "message", "bounce", "report"
    note: str
    message_code: str = ""


def do_accept_mail(channel: Channel, raw: bytes, source: str, external_id: str = "") -> tuple[InboundEvent, bool]:
    """Store a raw mail as an inbound event, once (the provider's id, else the SHA-256
    of the bytes: the same mail posted again is the same event); returns it and
    whether it is new. Nothing is parsed here."""
    from adesso.channels.pipeline import accept

    identity = EventIdentity(external_id=external_id or "sha256:" + digest(raw))
    return accept(channel, identity, raw, {"source": source[:100]})


def own_addresses(channel: Channel) -> set[str]:
    """The addresses of every email channel of the organisation: mail from them is ours."""
    configs = Channel.objects.filter(organization_id=channel.organization_id, kind="email").values_list(
        "config", flat=True
    )
    return {str(c.get("address", "")).lower() for c in configs if c.get("address")}


def channel_config(channel: Channel) -> EmailConfig:
    return EmailConfig.model_validate(channel.config)


def parse_for(channel: Channel, raw: bytes) -> ParsedMail:
    if len(raw) > MAX_MAIL_BYTES:
        raise MailError(f"The mail is {len(raw)} bytes; the limit is {MAX_MAIL_BYTES}")
    return parse_mail(raw, own_addresses(channel), settings.ADESSO_MAX_ATTACHMENT_BYTES)


def inbound_for(channel: Channel, config: EmailConfig, mail: ParsedMail) -> tuple[InboundMessage, str]:
    """The core's InboundMessage for a parsed mail, and how it was threaded. A mail joins
    a conversation by a code it carries only when its sender is that conversation's
    contact: anyone can copy a code into References, a plus-address or a subject, so a
    stranger's mail starts a conversation of its own (an agent may merge them)."""
    thread, how = find_thread(channel, config, mail)
    if thread and not sender_is_contact(channel, thread, mail.from_address):
        # "stranger: <how>": the code found, refused (Mail.threaded_by holds 32 characters).
        thread, how = "", f"stranger: {how}"
    text = visible_text(mail.text, mail.html, mail.subject)
    if mail.undecodable:
        text += (
            "\n\n["
            + _("Part of this mail could not be decoded (%(charset)s): see the original.")
            % {"charset": mail.undecodable}
            + "]"
        )
    if mail.skipped:
        text += "\n\n[" + "; ".join(f"not stored, over the size limit: {s}" for s in mail.skipped) + "]"
    external_id = mail.key if len(mail.key) <= 200 else "sha256:" + digest(mail.key.encode())
    inbound = InboundMessage(
        external_id=external_id,
        # The address is the identity of the channel kind already (identity_kind "email"):
        # given twice, do_resolve_contact would create the same identity twice.
        sender=InboundSender(external_id=mail.from_address, name=mail.from_name),
        text=text,
        sent_at=mail.date,
        attachments=mail.attachments,
        subject=mail.subject,
        thread=thread,
        new_thread=not thread and (config.threading == "new" or how.startswith("stranger")),
        automated=bool(mail.automated),
    )
    return inbound, how or "new"


def sender_is_contact(channel: Channel, conversation_code: str, address: str) -> bool:
    """Whether `address` is one of the addresses of the contact of the conversation
    (in the channel's organisation) that `conversation_code` names; true when there is
    no such conversation (nothing to join: the core then files the mail anew)."""
    from adesso.contacts.models import ContactIdentity
    from adesso.conversations.models import Conversation

    address = normalize_email(address)
    contact_id = (
        Conversation.objects.filter(organization_id=channel.organization_id, code=conversation_code)
        .values_list("contact_id", flat=True)
        .first()
    )
    if contact_id is None:
        return True
    if not address:
        return False
    return (
        ContactIdentity.objects.filter(contact_id=contact_id, kind="email", value=address).exists()
        or Contact.objects.filter(pk=contact_id, email__iexact=address).exists()
    )


def mail_events(channel: Channel, raw: bytes) -> list[Normalised]:
    """One stored raw mail -> normalised events (in the worker). InboundError: it can
    never be a message (no sender, MIME the parser rejects, over the size cap)."""
    config = channel_config(channel)
    try:
        parsed = parse_for(channel, raw)
        if parsed.bounce is not None:
            bounce = parsed.bounce
            status = "failed" if bounce.failed else "delayed"
            update = StatusUpdate(
                provider_message_id=bounce.original_message_id,
                status=status,
                error=bounce.summary() if bounce.failed else "",
            )
            return [_with(update, MailContext(raw, parsed))]
        if decode_our_id(parsed.message_id) and parsed.automated == "our own address":
            # A copy of a mail we sent (the mailbox was in Cc, or keeps sent mail in the
            # inbox): already in its conversation as our reply.
            return [Ignored("A copy of a mail sent from this channel")]
        inbound, how = inbound_for(channel, config, parsed)
    except MailError as exc:
        raise InboundError(str(exc)) from None
    except Exception as exc:
        # The parser met something it cannot read: no retry will read it either.
        log.exception("Mail on channel %s could not be parsed", channel.code)
        raise InboundError(f"The mail cannot be parsed ({type(exc).__name__})") from None
    return [_with(inbound, MailContext(raw, parsed, how))]


def _with(item: Any, context: MailContext) -> Any:
    setattr(item, _CONTEXT, context)
    return item


def do_apply_mail(channel: Channel, item: Normalised, source: str) -> Applied | None:
    """Store one normalised event of `mail_events` with its mail (in the pipeline's
    transaction); None for one it made without a mail (left to the pipeline)."""
    context: MailContext | None = getattr(item, _CONTEXT, None)
    if context is None:
        return None
    if isinstance(item, StatusUpdate) and context.parsed.bounce is not None:
        return _receive_bounce(channel, context.raw, context.parsed, context.parsed.bounce, source)
    if isinstance(item, InboundMessage):
        return _store(channel, context.raw, context.parsed, item, context.how, source)
    return None


@transaction.atomic
def _store(channel: Channel, raw: bytes, parsed: ParsedMail, inbound: InboundMessage, how: str, source: str) -> Applied:
    before = Mail.objects.filter(channel=channel, incoming=True, key=parsed.key).select_related("message").first()
    if before is not None:
        # The same Message-ID came before (the same mail again, or as a bounce or report
        # of ours): one mail per key, the first one kept, its message named.
        code = before.message.code if before.message is not None else ""
        return Applied("message", f"mail {parsed.key[:200]} had been received before", code)
    received = do_receive_message(channel, inbound)
    if not received.created:
        return Applied("message", f"mail {parsed.key[:200]} had been received before", received.message.code)
    # A new contact gets the address as its primary email (see inbound_for).
    if Contact.objects.filter(pk=received.conversation.contact_id, email="").update(email=parsed.from_address):
        received.conversation.contact.email = parsed.from_address
    mail = Mail(
        organization_id=channel.organization_id,
        channel=channel,
        message=received.message,
        kind=MailKind.MESSAGE,
        incoming=True,
        key=parsed.key,
        msgid=parsed.message_id,
        in_reply_to=" ".join(parsed.in_reply_to)[:5000],
        references=" ".join(parsed.references)[:10000],
        from_address=parsed.from_address,
        subject=parsed.subject,
        automated=parsed.automated,
        threaded_by=how[:32],
        source=source[:100],
        size=len(raw),
    )
    if parsed.inline:
        codes = list(received.message.attachments.order_by("pk").values_list("code", flat=True))
        mail.inline = {cid: codes[i] for cid, i in parsed.inline.items() if i < len(codes)}
    mail.raw.save("mail.eml", ContentFile(raw), save=False)
    mail.save(force_insert=True)
    return Applied("message", f"mail {mail.code}, threaded by {how}"[:300], received.message.code)


def _bounced_message(channel: Channel, bounce: Bounce) -> Message | None:
    """Our mail the bounce is about: by a Message-ID it returns (our stored mail, or our
    own Message-ID's encoding), else by the failed recipient."""
    for original in bounce.candidates or ([bounce.original_message_id] if bounce.original_message_id else []):
        sent = (
            Mail.objects.filter(channel=channel, incoming=False, msgid=original)
            .select_related("message__conversation")
            .first()
        )
        if sent is not None and sent.message is not None:
            return sent.message
        ours = decode_our_id(original)
        if ours is not None:
            found = (
                Message.objects.select_related("conversation")
                .filter(channel=channel, code=ours[0], direction=Direction.OUTGOING)
                .first()
            )
            if found is not None:
                return found
    return _bounced_by_recipient(channel, bounce)


def _bounced_by_recipient(channel: Channel, bounce: Bounce) -> Message | None:
    """A bounce that does not quote the original (some servers send only the failed
    address): our latest mail to that address on this channel, within a week."""
    recipients = [normalize_email(r) for r in bounce.recipients]
    recipients = [r for r in recipients if r]
    if not recipients:
        return None
    sent = (
        Mail.objects.filter(
            channel=channel,
            incoming=False,
            to_address__in=recipients,
            created_at__gte=timezone.now() - BOUNCE_WINDOW,
            message__isnull=False,
        )
        .select_related("message__conversation")
        .order_by("-created_at", "-pk")
        .first()
    )
    return sent.message if sent is not None else None


@transaction.atomic
def _receive_bounce(channel: Channel, raw: bytes, parsed: ParsedMail, bounce: Bounce, source: str) -> Applied:
    kind = "bounce" if bounce.failed else "report"
    if Mail.objects.filter(channel=channel, incoming=True, key=parsed.key).exists():
        return Applied(kind, f"mail {parsed.key[:200]} had been received before")
    target = _bounced_message(channel, bounce)
    mail = Mail(
        organization_id=channel.organization_id,
        channel=channel,
        message=target,
        kind=MailKind.BOUNCE if bounce.failed else MailKind.REPORT,
        incoming=True,
        key=parsed.key,
        msgid=parsed.message_id,
        from_address=parsed.from_address,
        subject=parsed.subject,
        automated=parsed.automated,
        source=source[:100],
        size=len(raw),
        details={
            "recipients": bounce.recipients,
            "status": bounce.status,
            "diagnostic": bounce.diagnostic,
            "reason": bounce.reason,
            "original_message_id": bounce.original_message_id,
        },
    )
    mail.raw.save("bounce.eml", ContentFile(raw), save=False)
    mail.save(force_insert=True)
    if target is not None and bounce.failed:
        do_record_bounce(target, bounce.summary(), bounce.reason)
    about = f"of message {target.code}" if target is not None else "of no mail we know"
    return Applied(kind, f"{kind} {about}: {bounce.summary()}"[:500], target.code if target is not None else "")


def do_record_bounce(message: Message, reason: str, kind: str = "other") -> None:
    """The customer's mail server refused our message after it left: its delivery
    failed. The agent sees it as a failed delivery, with the reason."""
    from adesso.outbox.models import Delivery, DeliveryState

    error = f"Bounced: {reason}"[:1000]
    with transaction.atomic():
        Delivery.objects.filter(message=message).exclude(status=DeliveryState.FAILED).update(
            status=DeliveryState.FAILED, last_error=error, next_attempt_at=None
        )
        Message.objects.filter(pk=message.pk).update(delivery_status=DeliveryStatus.FAILED)
        message.delivery_status = DeliveryStatus.FAILED
        record_event(
            message.conversation,
            EventKind.DELIVERY_FAILED,
            data={"message": message.code, "error": error, "bounce": True, "reason": kind},
        )
