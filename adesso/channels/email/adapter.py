"""The `email` channel kind: mail in by IMAP or a provider's webhook, out by SMTP or
any Django email backend (anymail), through the outbox."""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.core.mail import get_connection
from django.db import IntegrityError
from django.utils import timezone
from pydantic import ValidationError

from adesso.channels.base import (
    ChannelKind,
    InboundError,
    InboundMessage,
    PermanentChannelError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    UnknownDeliveryResult,
)
from adesso.channels.email.config import EmailConfig
from adesso.lib.addresses import normalize_email
from adesso.lib.netguard import OutboundRefused

if TYPE_CHECKING:
    from django.core.mail.backends.base import BaseEmailBackend

    from adesso.channels.models import Channel
    from adesso.conversations.models import Conversation, Message


class EmailChannel(ChannelKind):
    kind = "email"
    label = "Email"
    identity_kind = "email"
    config_schema = EmailConfig
    # SMTP has no idempotency key: a send whose result is unknown is left for a person.
    idempotent_send = False
    supports_attachments = True

    def identity_value(self, channel: Channel, external_id: str) -> str:
        return normalize_email(external_id) or external_id

    def parse_inbound(self, channel: Channel, payload: Any) -> InboundMessage:
        """Raw MIME bytes -> InboundMessage (no side effect; intake goes through
        actions.do_receive_mail, which also keeps the original and quarantines)."""
        from adesso.channels.email.actions import channel_config, inbound_for, parse_for
        from adesso.channels.email.parse import MailError

        try:
            return inbound_for(channel, channel_config(channel), parse_for(channel, bytes(payload)))[0]
        except MailError as exc:
            raise InboundError(str(exc)) from None

    def may_auto_reply(self, channel: Channel, conversation: Conversation) -> bool:
        """No automatic mail to a machine, to ourselves, or more than `auto_reply_limit`
        per hour to one customer."""
        from adesso.channels.email.actions import own_addresses
        from adesso.channels.email.models import Mail, MailKind
        from adesso.conversations.models import Direction, Message

        try:
            config = EmailConfig.model_validate(channel.config)
        except ValidationError:
            return False
        last = (
            Mail.objects.filter(message__conversation_id=conversation.pk, incoming=True, kind=MailKind.MESSAGE)
            .order_by("-created_at", "-pk")
            .values_list("automated", "from_address")
            .first()
        )
        if last is not None and (last[0] or last[1] in own_addresses(channel)):
            return False
        since = timezone.now() - dt.timedelta(hours=1)
        sent = Message.objects.filter(
            organization_id=conversation.organization_id,
            channel=channel,
            auto=True,
            direction=Direction.OUTGOING,
            conversation__contact_id=conversation.contact_id,
            created_at__gte=since,
        ).count()
        return sent < config.auto_reply_limit

    def send(self, channel: Channel, message: Message) -> str | None:
        """Send a reply by SMTP (the channel's server, or Django's EMAIL_BACKEND).

        Refused logins disable the channel; 4xx answers and connection failures are
        temporary; 5xx answers fail the message; a connection lost after the data
        was sent is an unknown result (SMTP cannot tell whether it was queued).
        """
        from adesso.channels.email import outgoing

        try:
            config = EmailConfig.model_validate(channel.config)
        except ValidationError:
            raise PermanentChannelError("The channel's configuration is invalid") from None
        last = outgoing.last_customer_mail(message)
        to = outgoing.recipient(message, last)
        if not normalize_email(to):
            raise PermanentDeliveryError("The customer has no email address to answer")
        mail = outgoing.build(config, message, last, to)
        _keep_sent(channel, message, mail.message().as_bytes(), last, to)
        connection = _connection(config)
        mail.connection = connection
        try:
            _open(connection)
            try:
                mail.send()
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                _raise_for_code(min(codes) if codes else 550, "The recipient was refused")
            except smtplib.SMTPResponseException as exc:
                _raise_for_code(exc.smtp_code, "The mail server refused the message")
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                raise UnknownDeliveryResult(
                    f"The connection to the mail server was lost while sending ({type(exc).__name__})"
                ) from exc
            except Exception as exc:
                _raise_for_backend(exc)
        finally:
            with contextlib.suppress(Exception):  # closing a half-dead connection is best effort
                connection.close()
        status = getattr(mail, "anymail_status", None)
        provider_id = getattr(status, "message_id", None) if status is not None else None
        if provider_id is not None and provider_id != "":
            return str(provider_id)  # the provider's id (anymail), for its tracking events
        return mail.extra_headers["Message-ID"].strip("<>")


def _connection(config: EmailConfig) -> BaseEmailBackend:
    if config.smtp is None:
        return get_connection(fail_silently=False)
    smtp = config.smtp
    return get_connection(
        "adesso.lib.netguard.GuardedSmtpBackend",  # an admin's host: never our own networks
        fail_silently=False,
        host=smtp.host,
        port=smtp.port,
        username=smtp.user or None,
        password=smtp.password or None,
        use_tls=smtp.security == "starttls",
        use_ssl=smtp.security == "ssl",
        timeout=smtp.timeout,
    )


def _open(connection: BaseEmailBackend) -> None:
    """Connect and log in: nothing has been sent yet, so failures here are safe to retry."""
    try:
        connection.open()
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentChannelError(f"The mail server refused the login ({exc.smtp_code})") from None
    except smtplib.SMTPResponseException as exc:
        _raise_for_code(exc.smtp_code, "The mail server refused the connection")
    except OutboundRefused as exc:  # the host now resolves to our own networks
        raise PermanentChannelError(str(exc)) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryDeliveryError(f"Could not connect to the mail server ({type(exc).__name__})") from None


def _raise_for_code(code: int, text: str) -> None:
    if 400 <= code < 500:
        raise TemporaryDeliveryError(f"{text} ({code}, temporary)")
    raise PermanentDeliveryError(f"{text} ({code})")


def _raise_for_backend(exc: Exception) -> None:
    """Errors of other backends (anymail's providers' APIs)."""
    try:
        from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - anymail is a dependency
        raise UnknownDeliveryResult(f"Unexpected error while sending ({type(exc).__name__})") from exc
    if isinstance(exc, AnymailRecipientsRefused):
        raise PermanentDeliveryError("The provider refused the recipient") from None
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        if status is None:
            raise UnknownDeliveryResult("No answer from the email provider") from None
        if status == 429 or status >= 500:
            raise TemporaryDeliveryError(f"The email provider answered {status}") from None
        if status in (401, 403):
            raise PermanentChannelError(f"The email provider refused our credentials ({status})") from None
        raise PermanentDeliveryError(f"The email provider answered {status}") from None
    raise UnknownDeliveryResult(f"Unexpected error while sending ({type(exc).__name__})") from exc


def _keep_sent(channel: Channel, message: Message, raw: bytes, last: Any, to: str) -> None:
    """The mail as sent, with its threading headers, so replies to it thread back and
    a bounce finds it. Once per message, whatever the retries."""
    from adesso.channels.email.models import Mail, MailKind
    from adesso.channels.email.threads import our_message_id

    config = EmailConfig.model_validate(channel.config)
    message_id = our_message_id(message.code, message.conversation.code, config.domain)
    if Mail.objects.filter(channel=channel, incoming=False, key=message_id).exists():
        return
    mail = Mail(
        organization_id=channel.organization_id,
        channel=channel,
        message=message,
        kind=MailKind.MESSAGE,
        incoming=False,
        key=message_id,
        msgid=message_id,
        in_reply_to=last.msgid if last is not None else "",
        references=(f"{last.references} {last.msgid}".strip() if last is not None else ""),
        from_address=config.address,
        to_address=normalize_email(to),
        subject=message.conversation.subject[:300],
        size=len(raw),
    )
    mail.raw.save("sent.eml", ContentFile(raw), save=False)
    try:
        mail.save(force_insert=True)
    except IntegrityError:
        pass  # a concurrent attempt kept it first
