"""The `webchat` kind: a chat window on the company's own site (docs/channels.md, Web chat).

Inbound: the widget (`/chat/widget.js`) posts the visitor's messages to
POST /chat/<code>/messages with its signed visitor token; the view checks the
`Origin` against the channel's `allowed_origins`, the token, the rate limits, and
stores the message as a raw event through the pipeline (one INSERT); the worker
makes the message, the routing and the acknowledgement with the estimate.
Outbound: `send` publishes to the visitor's websocket group; the REST list
(GET /chat/<code>/messages?after=<cursor>) is the source of truth either way. An
agent's reply to a visitor who went away and left an email is mailed too (offline.py).

Identity: an anonymous visitor is `webchat` = their visitor id (`v_...`); a customer
the company identifies (`identifier` and `identifier_hash` = hex HMAC-SHA256 of the
identifier under the channel's `identity_secret`) is `webchat` = `id:<identifier>`,
and their email when the identifier is one, so the chat joins that contact's history.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adesso.channels.base import (
    ChannelKind,
    CustomerFact,
    EventIdentity,
    InboundAttachment,
    InboundError,
    InboundMessage,
    InboundSender,
    Normalised,
    PermanentChannelError,
    secret_field,
)
from adesso.lib.codes import new_secret

if TYPE_CHECKING:
    from adesso.channels.models import Channel
    from adesso.conversations.models import Conversation, Message

log = logging.getLogger(__name__)
TEXT_LIMIT = 5000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_identity_secret() -> str:
    return "wcs_" + new_secret()


def normalize_origin(value: str) -> str:
    """`https://shop.example.com[:port]`, lowercased, without a path; ValueError otherwise."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port], no path)")
    if parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port], no path)")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


class WebchatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The sites that may show the widget: every request and websocket checks `Origin`.
    allowed_origins: list[str] = Field(min_length=1, max_length=50)
    # Key of `identifier_hash` (HMAC-SHA256, hex), generated with the channel, shown once.
    identity_secret: str = secret_field(default_factory=new_identity_secret, min_length=24, max_length=200)
    # What the widget shows (the public configuration endpoint).
    company_name: str = Field(default="", max_length=100)
    colour: str = Field(default="#1f6feb", pattern=r"^#[0-9a-fA-F]{6}$")
    greeting: str = Field(default="", max_length=300)
    # "" follows the visitor's browser; "it" or "en" forces one.
    language: Literal["", "it", "en"] = ""

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_origin(v) for v in value))


def identifier_hash(secret: str, identifier: str) -> str:
    """What the company's backend renders beside `identifier`: hex HMAC-SHA256."""
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


def identifier_ok(secret: str, identifier: str, given: str) -> bool:
    """The hash checked in constant time."""
    return hmac.compare_digest(identifier_hash(secret, identifier).encode(), given.strip().lower().encode())


def sender_id(visitor: str, identifier: str) -> str:
    """The visitor's `webchat` identity: the identified customer's, else the visitor's."""
    return f"id:{identifier}" if identifier else visitor


def visitor_group(channel_code: str, sender: str) -> str:
    """The websocket group of one visitor's open windows (a name the layers accept)."""
    digest = hashlib.sha256(f"{channel_code}/{sender}".encode()).hexdigest()[:32]
    return f"webchat.{digest}"


class StoredFile(BaseModel):
    """A file the visitor sent, checked by the view (type by name and first bytes, size)."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=1, max_length=100)
    data: str  # base64


class StoredMessage(BaseModel):
    """The raw event the view stores: the visitor's message with the identity the view
    checked (token, identifier hash), never trusted from the body alone."""

    model_config = ConfigDict(extra="forbid")

    visitor: str = Field(min_length=1, max_length=100)
    identifier: str = Field(default="", max_length=200)
    echo_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    # Empty only beside a file.
    text: str = Field(default="", max_length=TEXT_LIMIT)
    files: list[StoredFile] = Field(default_factory=list, max_length=1)
    name: str = Field(default="", max_length=200)
    page: str = Field(default="", max_length=2000)
    language: str = Field(default="", max_length=20)
    sent_at: dt.datetime

    @model_validator(mode="after")
    def _something(self) -> StoredMessage:
        if not self.text.strip() and not self.files:
            raise ValueError("a message has a text or a file")
        return self


class WebchatChannel(ChannelKind):
    kind = "webchat"
    label = "Web chat"
    identity_kind = "webchat"
    config_schema = WebchatConfig
    supports_typing = True
    # Agents' files reach the widget (images shown, documents linked: visitors.file_url).
    supports_attachments = True
    inbound_path = "/chat/{code}/messages"
    config_form = "adesso.channels.webchat.forms.WebchatConfigForm"
    # Mounted at /chat/ (the widget's address), not /channels/webchat/.
    url_prefix = "chat/"

    def shown_once(self, channel: Channel, token: str) -> dict[str, str]:
        from django.utils.translation import gettext as _

        return {_("Identity key (for identifier_hash)"): str(channel.config.get("identity_secret", ""))}

    def customer_facts(self, channel: Channel, conversation: Conversation) -> list[CustomerFact]:
        """The page the visitor's window was last on, and their browser's language."""
        from django.utils.translation import gettext as _

        from adesso.channels.webchat.models import VisitorPage

        page = (
            VisitorPage.objects.filter(channel_id=channel.pk, sender__in=_senders(channel, conversation))
            .order_by("-updated_at")
            .first()
        )
        if page is None:
            return []
        facts = [CustomerFact(_("Page the visitor is on"), page.title or page.url, page.url)]
        if page.language:
            facts.append(CustomerFact(_("Browser language"), page.language))
        return facts

    def identify(self, channel: Channel, body: bytes) -> EventIdentity:
        stored = _stored(body)
        sender = sender_id(stored.visitor, stored.identifier)
        return EventIdentity(
            external_id=f"{sender}:{stored.echo_id}"[:200],
            sender_key=sender[:150],
            position=int(stored.sent_at.timestamp() * 1_000_000),
        )

    def parse(self, channel: Channel, body: bytes) -> list[Normalised]:
        stored = _stored(body)
        sender = sender_id(stored.visitor, stored.identifier)
        email = stored.identifier if EMAIL.match(stored.identifier) else ""
        return [
            InboundMessage(
                external_id=f"{sender}:{stored.echo_id}"[:200],
                sender=InboundSender(external_id=sender, name=stored.name, email=email),
                text=stored.text,
                sent_at=stored.sent_at,
                attachments=[
                    InboundAttachment(f.filename, f.content_type, base64.b64decode(f.data)) for f in stored.files
                ],
            )
        ]

    def send_typing(self, channel: Channel, conversation: Conversation) -> None:
        for sender in _senders(channel, conversation):
            _publish(visitor_group(channel.code, sender), {"typing": True})

    def send(self, channel: Channel, message: Message) -> str | None:
        """Nothing to call: the message is already where the widget reads it (the REST
        list); the visitor's open windows are told at once."""
        if not isinstance(channel.config.get("allowed_origins"), list):
            raise PermanentChannelError("The channel's configuration is invalid")
        senders = _senders(channel, message.conversation)
        for sender in senders:
            _publish(visitor_group(channel.code, sender), {"message": message.code})
        from adesso.channels.webchat.offline import mail_if_away

        try:  # the visitor went away and left an address: the reply is mailed too
            mail_if_away(channel, message, senders)
        except Exception:  # the REST list has the reply either way; the mail is extra
            log.exception("web chat reply %s could not be mailed", message.code)
        return message.code


def _stored(body: bytes) -> StoredMessage:
    try:
        return StoredMessage.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise InboundError(f"Not a web chat message: {exc}") from None


def _senders(channel: Channel, conversation: Conversation) -> list[str]:
    """The conversation's contact's `webchat` identities (their open windows' groups)."""
    from adesso.contacts.models import ContactIdentity

    return list(
        ContactIdentity.objects.filter(
            organization_id=channel.organization_id,
            contact_id=conversation.contact_id,
            kind=WebchatChannel.identity_kind,
        ).values_list("value", flat=True)[:20]
    )


def _publish(group: str, payload: dict[str, Any]) -> None:
    """To the visitor's sockets through the channel layer (Redis across processes); with
    the in-memory layer the visitor's socket polls the REST source itself."""
    from asgiref.sync import async_to_sync
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer()
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "webchat.push", "payload": payload})
    except Exception:  # a live push must never fail a delivery: the REST list has it
        log.exception("web chat push failed")
