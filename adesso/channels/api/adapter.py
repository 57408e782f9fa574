"""The `api` kind: a generic channel fed over HTTP by the company's own systems
(docs/channels.md, API).

Inbound: the client posts each customer message to POST /api/v1/inbound/{channel}
with the channel's token; the message is checked whole in the web request (a bad one
is a 4xx and stores nothing), stored raw by the pipeline with its message code
allocated, answered 202; the worker makes the message. Outbound: replies are POSTed,
signed, to the channel's `webhook_url`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel, Field, HttpUrl, ValidationError, field_validator

from adesso.channels.base import (
    ChannelKind,
    EventIdentity,
    InboundAttachment,
    InboundError,
    InboundMessage,
    InboundSender,
    Normalised,
    PermanentChannelError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    UnknownDeliveryResult,
    VerificationError,
    secret_field,
)
from adesso.lib import netguard
from adesso.lib.codes import new_secret
from adesso.lib.netguard import outbound_url

if TYPE_CHECKING:
    from django.http import HttpRequest

    from adesso.channels.models import Channel
    from adesso.conversations.models import Message


def new_signing_secret() -> str:
    return "whsec_" + new_secret()


class ApiChannelConfig(BaseModel):
    # Where replies are POSTed (signed); without it, clients read replies through the API.
    webhook_url: HttpUrl | None = outbound_url(default=None)
    # Key of the X-Adesso-Signature HMAC, generated with the channel (see
    # signing_secret() for older channels). repr=False keeps it out of logs and tracebacks.
    signing_secret: str = secret_field(default_factory=new_signing_secret, min_length=24, max_length=200)


def _clean_text(value: Any) -> Any:
    """Refuse text a database cannot store: NUL and lone surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text may not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text is not valid Unicode (lone surrogate)") from None
    return value


class InboundSenderIn(BaseModel):
    external_id: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)

    _clean = field_validator("*", mode="before")(_clean_text)


class InboundAttachmentIn(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    content_base64: str


class InboundIn(BaseModel):
    external_id: str = Field(min_length=1, max_length=200)
    sender: InboundSenderIn
    text: str = Field(default="", max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000)
    sent_at: dt.datetime | None = None
    attachments: list[InboundAttachmentIn] = Field(default_factory=list, max_length=20)

    _clean = field_validator("external_id", "text", "html", mode="before")(_clean_text)


class InvalidInbound(InboundError):
    """A body the inbound endpoint refuses, with the HTTP status and error code it answers
    (400 not UTF-8 or not JSON, 422 not a message) and, for 422, each field's problem."""

    def __init__(self, status: int, code: str, text: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(text)
        self.status, self.code, self.details = status, code, details


class ApiChannel(ChannelKind):
    kind = "api"
    label = "API"
    identity_kind = "api"
    config_schema = ApiChannelConfig
    # Every webhook call carries Idempotency-Key = the message code, so the client
    # can drop a repeat: a send whose result is unknown may be retried.
    idempotent_send = True
    # The webhook carries each file in `attachments`, base64 like the inbound endpoint.
    supports_attachments = True
    inbound_path = "/api/v1/inbound/{code}"
    # The callers are the company's own systems, REST clients: its endpoints are in the API.
    api_router = "adesso.channels.api.views.router"
    # Its urls.py (the inbound POST, served ahead of the router) is mounted here.
    url_prefix = "api/v1/inbound/"
    config_form = "adesso.channels.api.forms.ApiConfigForm"

    def identity_value(self, channel: Channel, external_id: str) -> str:
        # API senders' ids are only meaningful inside the client system that
        # feeds this channel, so they are qualified by the channel.
        return f"{channel.code}/{external_id}"

    def verify(self, channel: Channel, request: HttpRequest) -> None:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        # token_matches compares hashes in constant time.
        if scheme.lower() != "bearer" or not channel.token_matches(secret.strip()):
            raise VerificationError("Send the channel's token as 'Authorization: Bearer <token>'")

    def identify(self, channel: Channel, body: bytes) -> EventIdentity:
        """The whole message is checked here, in the web request (cheap: one validation,
        attachments decoded to measure them), so that a bad one is refused before it is
        stored. Events of one sender are processed in the order of `sent_at`, when given."""
        message = _message(_validated(body))
        position = int(message.sent_at.timestamp() * 1_000_000) if message.sent_at else 0
        return EventIdentity(external_id=message.external_id, sender_key=message.sender.external_id, position=position)

    def parse(self, channel: Channel, body: bytes) -> list[Normalised]:
        return [_message(_validated(body))]

    def shown_once(self, channel: Channel, token: str) -> dict[str, str]:
        from django.utils.translation import gettext as _

        return {_("Channel token"): token, _("Webhook signing key"): signing_secret(channel)}

    def test_connection(self, channel: Channel) -> str:
        """A signed test call of the webhook (`"event": "test"`), as replies are sent."""
        from django.utils.translation import gettext as _

        from adesso.channels.base import ConnectError

        try:
            config = ApiChannelConfig.model_validate(channel.config)
        except ValidationError:
            raise ConnectError(_("The channel's configuration is invalid.")) from None
        if config.webhook_url is None:
            return _("No webhook address: your system reads replies through the API, nothing to call.")
        payload = {"event": "test", "channel": channel.code, "sent_at": timezone.now().isoformat()}
        body = json.dumps(payload, separators=(",", ":")).encode()
        seconds = float(getattr(settings, "ADESSO_WEBHOOK_TIMEOUT", 10.0))
        try:
            with (
                netguard.http_client(httpx.Timeout(seconds, connect=min(seconds, 5.0))) as client,
                client.stream(
                    "POST",
                    str(config.webhook_url),
                    content=body,
                    headers=_headers(channel, body, "test-" + new_secret()),
                ) as response,
            ):
                _read_head(response)
        except netguard.OutboundRefused as exc:
            raise ConnectError(str(exc)) from None
        except httpx.HTTPError as exc:
            raise ConnectError(_("Could not reach the webhook (%s).") % type(exc).__name__) from None
        if 200 <= response.status_code < 300:
            return _("The webhook answered %s to a signed test call.") % response.status_code
        raise ConnectError(_("The webhook answered %s to a signed test call.") % response.status_code)

    def send(self, channel: Channel, message: Message) -> str | None:
        """POST the reply, signed, to the channel's webhook_url (nothing to do without one:
        the client reads replies through the API). Returns the `id` the client answered with.

        2xx is delivered; 408, 429, 5xx and connection failures are temporary; 410 Gone
        disables the channel; any other answer fails the message. No answer after the
        request left is an unknown result.
        """
        try:
            config = ApiChannelConfig.model_validate(channel.config)
        except ValidationError:
            raise PermanentChannelError("The channel's configuration is invalid") from None
        if config.webhook_url is None:
            return None
        body = json.dumps(webhook_payload(channel, message), ensure_ascii=False, separators=(",", ":")).encode()
        headers = _headers(channel, body, message.code)
        seconds = float(getattr(settings, "ADESSO_WEBHOOK_TIMEOUT", 10.0))
        timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0))
        # The process's pooled, address-guarded client: a burst of replies to one webhook
        # reuses a connection (checked when it opened) instead of a new client each.
        client = netguard.pooled_client("webhook")
        try:
            with client.stream(
                "POST", str(config.webhook_url), content=body, headers=headers, timeout=timeout
            ) as response:
                head = _read_head(response)
        except netguard.OutboundRefused as exc:
            # Checked when saved; resolving elsewhere now (DNS rebinding) stops the channel.
            raise PermanentChannelError(str(exc)) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError) as exc:
            # The request never left: trying again is safe.
            raise TemporaryDeliveryError(f"Could not connect to the webhook ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise UnknownDeliveryResult(f"No answer from the webhook after sending ({type(exc).__name__})") from exc
        return _outcome(response.status_code, response.headers, head)


def _headers(channel: Channel, body: bytes, idempotency_key: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Adesso-Webhook/1",
        "X-Adesso-Signature": "sha256=" + sign(signing_secret(channel), body),
        "X-Adesso-Timestamp": str(int(time.time())),
        "Idempotency-Key": idempotency_key,
    }


def _validated(body: bytes) -> InboundIn:
    try:
        raw = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInbound(400, "invalid_utf8", f"The body is not valid UTF-8 (byte {exc.start})") from None
    try:
        return InboundIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in errors]
        if any(e["type"] == "json_invalid" for e in errors):
            raise InvalidInbound(400, "invalid_json", "The body is not valid JSON: " + details[0]["message"]) from None
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        raise InvalidInbound(422, "invalid", summary, details) from None


def _message(data: InboundIn) -> InboundMessage:
    """A validated body as the customer's message; InvalidInbound (422) for what the
    schema alone cannot say (nothing in it, a naive date, a file too big)."""
    if not data.text.strip() and not data.html and not data.attachments:
        raise InvalidInbound(422, "invalid", "The message has no text, html or attachments")
    sent_at = data.sent_at
    if sent_at is not None and timezone.is_naive(sent_at):
        raise InvalidInbound(422, "invalid", "sent_at must carry a time zone, e.g. 2026-11-24T10:00:00+01:00")
    if sent_at is not None:
        try:
            sent_at = sent_at.astimezone(dt.UTC)  # stored as UTC: year 9999 at -14:00 has none
        except OverflowError:
            raise InvalidInbound(422, "invalid", "sent_at is out of range") from None
    limit = settings.ADESSO_MAX_ATTACHMENT_BYTES
    attachments = []
    for item in data.attachments:
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInbound(422, "invalid", f"Attachment {item.filename!r} is not valid base64") from None
        if len(content) > limit:
            raise InvalidInbound(
                422, "invalid", f"Attachment {item.filename!r} is {len(content)} bytes; the limit is {limit}"
            )
        attachments.append(InboundAttachment(item.filename, item.content_type, content))
    sender = data.sender
    return InboundMessage(
        external_id=data.external_id,
        sender=InboundSender(
            external_id=sender.external_id,
            name=sender.name,
            email=sender.email or "",
            phone=sender.phone or "",
        ),
        text=data.text,
        html=data.html or "",
        sent_at=sent_at,
        attachments=attachments,
    )


def webhook_payload(channel: Channel, message: Message) -> dict[str, Any]:
    conversation = message.conversation
    payload: dict[str, Any] = {
        "event": "message.created",
        "channel": channel.code,
        "conversation": conversation.code,
        "message": message.code,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "recipient": {"external_id": _recipient_external_id(channel, conversation.contact_id)},
    }
    files = _attachments(message)
    if files:  # only then: the shape without files stays as it always was
        payload["attachments"] = files
    if message.auto:  # likewise: an acknowledgement, a survey's question, its follow-up
        payload["auto"] = True
        survey = _survey_scale(message)
        if survey is not None:
            payload["survey"] = survey
    return payload


def _survey_scale(message: Message) -> dict[str, Any] | None:
    """A survey's question (adesso.surveys; its `auto_sent` event carries the scale):
    the kind and the scores, so the client system can show one button per score. The
    answer is the score as the customer's next message ("4"), as on every text channel."""
    from adesso.conversations.models import ConversationEvent

    data = (
        ConversationEvent.objects.filter(
            conversation_id=message.conversation_id, kind="auto_sent", data__message=message.code
        )
        .values_list("data", flat=True)
        .first()
    ) or {}
    scale = data.get("scale")
    if data.get("purpose") != "survey" or not isinstance(scale, list) or len(scale) != 2:
        return None
    return {"kind": str(data.get("kind") or ""), "low": int(scale[0]), "high": int(scale[1])}


def _attachments(message: Message) -> list[dict[str, Any]]:
    """The reply's files, base64 like the inbound endpoint's."""
    out = []
    for item in message.attachments.order_by("pk"):
        with item.file.open("rb") as f:
            content = f.read()
        out.append(
            {
                "filename": item.filename,
                "content_type": item.content_type,
                "size": item.size,
                "content_base64": base64.b64encode(content).decode(),
            }
        )
    return out


def _recipient_external_id(channel: Channel, contact_id: int) -> str | None:
    """The id the client system knows the contact by: the contact's `api` identity on
    this channel (the oldest, if a merge brought several)."""
    from adesso.contacts.models import ContactIdentity

    prefix = f"{channel.code}/"
    value = (
        ContactIdentity.objects.filter(
            organization_id=channel.organization_id,
            contact_id=contact_id,
            kind=ApiChannel.identity_kind,
            value__startswith=prefix,
        )
        .order_by("created_at", "pk")
        .values_list("value", flat=True)
        .first()
    )
    return value.removeprefix(prefix) if value else None


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body: what X-Adesso-Signature carries after `sha256=`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signing_secret(channel: Channel) -> str:
    """The key of the channel's webhook signatures. Channels created before signing
    existed get one on first use, stored in their config (locked, so two workers agree)."""
    secret = channel.config.get("signing_secret")
    if secret:
        return str(secret)
    from adesso.channels.models import Channel as ChannelModel

    with transaction.atomic():
        row = ChannelModel.objects.select_for_update().get(pk=channel.pk)
        secret = row.config.get("signing_secret")
        if not secret:
            secret = new_signing_secret()
            row.config = {**row.config, "signing_secret": secret}
            row.save(update_fields=["config"])
    channel.config = row.config
    return str(secret)


# Enough of an answer to show an admin why it failed, without reading a huge body.
_HEAD_BYTES = 4096


def _read_head(response: httpx.Response) -> bytes:
    head = b""
    try:
        for chunk in response.iter_bytes():
            head += chunk
            if len(head) >= _HEAD_BYTES:
                break
    except httpx.TransportError:
        pass  # the status line arrived: that is the answer, the body is a detail
    return head[:_HEAD_BYTES]


def _outcome(status: int, headers: httpx.Headers, head: bytes) -> str | None:
    if 200 <= status < 300:
        return _provider_id(head)
    # Only the status: the answer's body could be anything the URL points at, and the
    # reason is shown to every agent (docs/security.md, SSRF).
    detail = f"The webhook answered {status}"
    if status == 410:
        raise PermanentChannelError(f"{detail} (Gone: the client removed the webhook)")
    if status in (408, 429) or status >= 500:
        raise TemporaryDeliveryError(detail, retry_after=_retry_after(headers.get("Retry-After")))
    if 300 <= status < 400:
        detail += " (redirects are not followed: configure the final URL)"
    raise PermanentDeliveryError(detail)


def _provider_id(head: bytes) -> str | None:
    """The client's id for the message, if it answered with JSON {"id": ...}."""
    try:
        data = json.loads(head)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str | int):
        return str(data["id"])[:255]
    return None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())
