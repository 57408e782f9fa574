"""The `api` channel: a generic channel fed over HTTP by the company's own systems."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from pydantic import BaseModel, Field, HttpUrl, field_validator

from adesso.channels.base import (
    ChannelKind,
    InboundAttachment,
    InboundError,
    InboundMessage,
    InboundSender,
)

if TYPE_CHECKING:
    from adesso.channels.models import Channel
    from adesso.conversations.models import Message


class ApiChannelConfig(BaseModel):
    # Where replies are POSTed (signed); without it, clients read replies through the API.
    webhook_url: HttpUrl | None = None


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


class ApiChannel(ChannelKind):
    kind = "api"
    label = "API"
    identity_kind = "api"
    config_schema = ApiChannelConfig

    def identity_value(self, channel: Channel, external_id: str) -> str:
        # API senders' ids are only meaningful inside the client system that
        # feeds this channel, so they are qualified by the channel.
        return f"{channel.code}/{external_id}"

    def parse_inbound(self, channel: Channel, payload: Any) -> InboundMessage:
        data: InboundIn = payload
        if not data.text.strip() and not data.html and not data.attachments:
            raise InboundError("The message has no text, html or attachments")
        sent_at = data.sent_at
        if sent_at is not None and timezone.is_naive(sent_at):
            raise InboundError("sent_at must carry a time zone, e.g. 2026-11-24T10:00:00+01:00")
        limit = settings.ADESSO_MAX_ATTACHMENT_BYTES
        attachments = []
        for item in data.attachments:
            try:
                content = base64.b64decode(item.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise InboundError(f"Attachment {item.filename!r} is not valid base64") from None
            if len(content) > limit:
                raise InboundError(
                    f"Attachment {item.filename!r} is {len(content)} bytes; the limit is {limit}"
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

    def send(self, channel: Channel, message: Message) -> None:
        # Delivery to webhook_url is the outbox's job (a later slice); without a
        # webhook the client polls the conversation through the API.
        return None
