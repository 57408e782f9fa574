"""The shape every channel kind has.

A kind parses what its provider sends into `InboundMessage`s (after the
signature has been checked on the raw body) and sends an agent's reply out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from adesso.channels.models import Channel
    from adesso.conversations.models import Message


class InboundError(ValueError):
    """Input that cannot become a message; the text is safe to show the sender."""


@dataclass
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class InboundSender:
    external_id: str
    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass
class InboundMessage:
    """A customer's message, normalised, ready for `do_receive_message`."""

    external_id: str
    sender: InboundSender
    text: str
    html: str = ""
    sent_at: dt.datetime | None = None
    attachments: list[InboundAttachment] = field(default_factory=list)


class ChannelKind:
    kind: ClassVar[str]
    label: ClassVar[str]
    # Identity kind under which the sender's external id is stored.
    identity_kind: ClassVar[str]
    config_schema: ClassVar[type[BaseModel]]

    def identity_value(self, channel: Channel, external_id: str) -> str:
        return external_id

    def parse_inbound(self, channel: Channel, payload: Any) -> InboundMessage:
        raise NotImplementedError

    def send(self, channel: Channel, message: Message) -> None:
        """Deliver an outgoing message; raise to have the outbox retry."""
        raise NotImplementedError
