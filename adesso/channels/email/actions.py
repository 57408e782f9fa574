"""Every state change of the email channel: a mail received (from IMAP or a
provider's webhook, through the same handler), quarantined, or bounced."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.channels.base import InboundMessage, InboundSender
from adesso.channels.email.config import EmailConfig
from adesso.channels.email.dsn import Bounce
from adesso.channels.email.models import Mail, MailKind, Quarantine
from adesso.channels.email.parse import MailError, ParsedMail, digest, parse_mail
from adesso.channels.email.quote import visible_text
from adesso.channels.email.threads import decode_our_id, find_thread
from adesso.channels.models import Channel
from adesso.contacts.models import Contact
from adesso.conversations.events import record_event
from adesso.conversations.models import DeliveryStatus, Direction, EventKind, Message
from adesso.intake.actions import Received, do_receive_message
from adesso.lib.addresses import normalize_email

log = logging.getLogger(__name__)

# A bounce that names only the failed address refers to our mail of this long ago at most.
BOUNCE_WINDOW = dt.timedelta(days=7)
# Larger mail is kept in quarantine, whole, instead of being parsed.
MAX_MAIL_BYTES = 50 * 1024 * 1024


@dataclass
class MailOutcome:
    status: str  # "stored", "duplicate", "bounce", "report", "quarantined", "ours"
    mail: Mail | None = None
    quarantine: Quarantine | None = None
    received: Received | None = None


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
    """The core's InboundMessage for a parsed mail, and how it was threaded."""
    thread, how = find_thread(channel, config, mail)
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
        new_thread=not thread and config.threading == "new",
        automated=bool(mail.automated),
    )
    return inbound, how or "new"


def do_receive_mail(channel: Channel, raw: bytes, source: str = "") -> MailOutcome:
    """Store one mail: a customer's message, a bounce, or a quarantined mail with the
    reason. Idempotent: the same mail again stores nothing. Never raises for what the
    mail contains; raises only when the database itself fails."""
    try:
        config = channel_config(channel)
        parsed = parse_for(channel, raw)
        if parsed.bounce is not None:
            return _receive_bounce(channel, raw, parsed, parsed.bounce, source)
        if decode_our_id(parsed.message_id) and parsed.automated == "our own address":
            # A copy of a mail we sent (the mailbox was in Cc, or keeps sent mail in the
            # inbox): already in its conversation as our reply.
            return MailOutcome("ours")
        inbound, how = inbound_for(channel, config, parsed)
    except MailError as exc:
        return do_quarantine_mail(channel, raw, str(exc), source)
    except Exception as exc:
        log.exception("Mail on channel %s could not be parsed", channel.code)
        return do_quarantine_mail(channel, raw, f"The mail cannot be parsed ({type(exc).__name__})", source)
    try:
        return _store(channel, raw, parsed, inbound, how, source)
    except Exception as exc:
        # A mail the core refuses (a value the database will not take...) must not stop
        # the fetcher: it is kept for an admin, and the rest of the mailbox goes on.
        log.exception("Mail on channel %s could not be stored", channel.code)
        return do_quarantine_mail(channel, raw, f"The mail could not be stored ({type(exc).__name__})", source)


@transaction.atomic
def _store(
    channel: Channel, raw: bytes, parsed: ParsedMail, inbound: InboundMessage, how: str, source: str
) -> MailOutcome:
    received = do_receive_message(channel, inbound)
    if not received.created:
        return MailOutcome("duplicate", received=received)
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
        threaded_by=how,
        source=source[:100],
        size=len(raw),
    )
    if parsed.inline:
        codes = list(received.message.attachments.order_by("pk").values_list("code", flat=True))
        mail.inline = {cid: codes[i] for cid, i in parsed.inline.items() if i < len(codes)}
    mail.raw.save("mail.eml", ContentFile(raw), save=False)
    mail.save(force_insert=True)
    return MailOutcome("stored", mail=mail, received=received)


def do_quarantine_mail(channel: Channel, raw: bytes, reason: str, source: str = "") -> MailOutcome:
    """Keep a mail that cannot be a message, whole, with the reason, for an admin.
    The same bytes again are quarantined once."""
    key = digest(raw)
    with transaction.atomic():
        existing = Quarantine.objects.filter(channel=channel, digest=key).first()
        if existing is not None:
            return MailOutcome("quarantined", quarantine=existing)
        row = Quarantine(
            organization_id=channel.organization_id,
            channel=channel,
            digest=key,
            reason=reason[:2000],
            source=source[:100],
            size=len(raw),
        )
        row.raw.save("mail.eml", ContentFile(raw), save=False)
        row.save(force_insert=True)
    log.warning("Mail quarantined on channel %s: %s", channel.code, reason)
    return MailOutcome("quarantined", quarantine=row)


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
def _receive_bounce(channel: Channel, raw: bytes, parsed: ParsedMail, bounce: Bounce, source: str) -> MailOutcome:
    if Mail.objects.filter(channel=channel, incoming=True, key=parsed.key).exists():
        return MailOutcome("duplicate")
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
    return MailOutcome("bounce" if bounce.failed else "report", mail=mail)


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
