"""The `email` channel kind: mail in by IMAP or a provider's webhook, out by SMTP or
any Django email backend (anymail), through the outbox (docs/email.md).

Inbound is on the pipeline (docs/channels.md): a webhook's request is verified on the
raw body (`verify`: Mailgun's signature with its timestamp and token, or the basic
auth the other providers' URLs carry), the raw mail stored with one INSERT, and the
worker `parse`s it (MIME, charsets, quotes, bounces, loops) into normalised events;
`apply` keeps each mail whole with its threading headers."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import get_connection
from django.db import IntegrityError
from django.utils import timezone
from pydantic import ValidationError

from adesso.channels.base import (
    ChannelKind,
    EventIdentity,
    Normalised,
    PermanentChannelError,
    PermanentDeliveryError,
    SurveyQuestion,
    TemporaryDeliveryError,
    UnknownDeliveryResult,
)
from adesso.channels.email.config import EmailConfig
from adesso.lib.addresses import normalize_email
from adesso.lib.netguard import OutboundRefused

if TYPE_CHECKING:
    from django.core.mail.backends.base import BaseEmailBackend
    from django.http import HttpRequest

    from adesso.channels.models import Channel, InboundEvent
    from adesso.conversations.models import Conversation, Message


log = logging.getLogger(__name__)


class EmailChannel(ChannelKind):
    kind = "email"
    label = "Email"
    identity_kind = "email"
    config_schema = EmailConfig
    # SMTP has no idempotency key: a send whose result is unknown is left for a person.
    idempotent_send = False
    supports_attachments = True
    subject_lines = True
    original_view = "email_channel:original"
    # The provider set in the channel's configuration posts here; each provider also has
    # its own address (`webhook_urls`), and the old /mail/inbound/<provider>/<code> works.
    inbound_path = "/channels/email/{code}/inbound"
    config_form = "adesso.channels.email.forms.EmailConfigForm"

    def identity_value(self, channel: Channel, external_id: str) -> str:
        return normalize_email(external_id) or external_id

    def connect(self, channel: Channel) -> None:
        """Without an SMTP server of its own the channel sends through the operator's
        backend: its address must be proven first (senders.py), so the proof mail goes
        now. A backend that is down does not stop the channel: the proof mail is sent
        again when a reply is refused."""
        from adesso.channels.email import senders

        config = EmailConfig.model_validate(channel.config)
        if senders.needs_proof(config) and not senders.is_proven(channel.organization_id, config.address):
            try:
                senders.do_request_proof(channel, config)
            except Exception as exc:
                log.warning("Channel %s: the proof mail could not be sent (%s)", channel.code, type(exc).__name__)

    # -- inbound (docs/channels.md, the inbound pipeline) ---------------------------------

    def inbound_url(self, channel: Channel) -> str | None:
        """The address for the provider in the channel's configuration (None without one:
        IMAP, or a provider's own address from `webhook_urls`)."""
        return super().inbound_url(channel) if channel.config.get("provider") else None

    def webhook_urls(self, channel: Channel) -> dict[str, str] | None:
        """Each provider's address for this channel."""
        from adesso.channels.email.webhooks import VIEWS

        site = settings.SITE_URL.rstrip("/")
        return {p: f"{site}/channels/email/{channel.code}/inbound/{p}" for p in VIEWS}

    def verify(self, channel: Channel, request: HttpRequest) -> None:
        """The provider's signature or credentials, on the raw request (webhooks.verify)."""
        from adesso.channels.email import webhooks

        webhooks.verify(channel, request, webhooks.provider_of(channel, request))

    def raw_events(self, channel: Channel, request: HttpRequest) -> list[bytes]:
        """The raw mails in a provider's request (webhooks.mails)."""
        from adesso.channels.email import webhooks

        return webhooks.mails(channel, request, webhooks.provider_of(channel, request))

    def identify(self, channel: Channel, body: bytes) -> EventIdentity:
        """A stored raw mail is known by its bytes' SHA-256 (Mailgun's webhook uses its
        token instead, remembered against replays)."""
        from adesso.channels.email.parse import digest

        return EventIdentity(external_id="sha256:" + digest(body))

    def parse(self, channel: Channel, body: bytes) -> list[Normalised]:
        from adesso.channels.email.actions import mail_events

        return mail_events(channel, body)

    def apply(self, channel: Channel, item: Normalised, event: InboundEvent) -> tuple[str, str, str] | None:
        from adesso.channels.email.actions import do_apply_mail

        applied = do_apply_mail(channel, item, str((event.headers or {}).get("source", "")))
        return None if applied is None else (applied.kind, applied.note, applied.message_code)

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

    def survey_question(self, channel: Channel, conversation: Conversation, question: SurveyQuestion) -> str:
        """The question, one signed link per score (the public page records it and asks
        why), and the digits for whoever prefers to answer the mail."""
        lines = [question.text, ""]
        lines += [f"{score}: {url}" for score, url in sorted(question.links.items())]
        return "\n".join([*lines, "", question.reply_hint])

    def test_connection(self, channel: Channel) -> str:
        """Log in to the IMAP server (when the channel reads a mailbox) and open the way
        replies leave (its SMTP server, or the site's mail backend): nothing is sent."""
        from django.utils.translation import gettext as _

        from adesso.channels.base import ConnectError, DeliveryError
        from adesso.channels.email import imap

        try:
            config = EmailConfig.model_validate(channel.config)
        except ValidationError:
            raise ConnectError(_("The channel's configuration is invalid.")) from None
        checked = []
        if config.imap is not None:
            try:
                imap._quietly_close(imap.connect(config.imap))
            except OutboundRefused as exc:
                raise ConnectError(str(exc)) from None
            except Exception as exc:  # refused login, TLS, timeout: the server's words, never ours
                detail = " ".join(str(exc).split())[:200] or type(exc).__name__
                raise ConnectError(
                    _("The IMAP server %(host)s refused: %(detail)s") % {"host": config.imap.host, "detail": detail}
                ) from None
            checked.append(_("IMAP login to %(host)s works") % {"host": config.imap.host})
        connection = _connection(config)
        try:
            _open(connection)
        except DeliveryError as exc:
            raise ConnectError(_("Sending does not work: %s") % exc) from None
        finally:
            with contextlib.suppress(Exception):
                connection.close()
        checked.append(
            _("the SMTP server %(host)s accepts our login") % {"host": config.smtp.host}
            if config.smtp is not None
            else _("the site's mail service accepts a connection")
        )
        return "; ".join(checked) + "."

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
        _require_proven_sender(channel, config)
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


def _require_proven_sender(channel: Channel, config: EmailConfig) -> None:
    """Nothing leaves From an address the organisation has not proven, when it would
    leave through the operator's shared backend (senders.py)."""
    from adesso.channels.email import senders

    if not senders.needs_proof(config) or senders.is_proven(channel.organization_id, config.address):
        return
    try:
        senders.do_request_proof(channel, config)  # at most every few hours
    except Exception as exc:
        log.warning("Channel %s: the proof mail could not be sent (%s)", channel.code, type(exc).__name__)
    raise PermanentDeliveryError(senders.not_proven_reason(config.address))


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
