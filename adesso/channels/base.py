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
    from adesso.conversations.models import Conversation, Message


class InboundError(ValueError):
    """Input that cannot become a message; the text is safe to show the sender."""


class DeliveryError(Exception):
    """A send that did not succeed. The text is shown to agents and admins: never put
    secrets, tokens or signed URLs in it."""


class TemporaryDeliveryError(DeliveryError):
    """Nothing was delivered and trying later may work (timeout before sending,
    connection refused, 429, 5xx). The outbox retries with backoff."""

    def __init__(self, text: str, retry_after: float | None = None) -> None:
        super().__init__(text)
        # Seconds the provider asked us to wait (Retry-After), if it said.
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """This message will never be accepted as it is (e.g. a 4xx): fail it now."""


class PermanentChannelError(PermanentDeliveryError):
    """Nothing will be accepted on this channel any more (revoked credentials,
    410 Gone): fail the message and disable the channel with this text as the reason."""


class UnknownDeliveryResult(DeliveryError):
    """The request may have reached the provider but no answer came back (a timeout
    after sending, a dropped connection). Repeating it could deliver twice, so the
    outbox retries only kinds whose `idempotent_send` is true."""


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
    # The subject of a new conversation (email), if the channel has one.
    subject: str = ""
    # The code of the conversation this message answers, when the channel can tell
    # (email threading). Filed there, reopened if needed, when it exists in the same
    # organisation and channel; otherwise ignored.
    thread: str = ""
    # Start a new conversation instead of joining the contact's open one.
    new_thread: bool = False
    # Sent by a machine (auto-reply, mailing list, bulk): stored, never acknowledged.
    automated: bool = False


class ChannelKind:
    kind: ClassVar[str]
    label: ClassVar[str]
    # Identity kind under which the sender's external id is stored.
    identity_kind: ClassVar[str]
    config_schema: ClassVar[type[BaseModel]]
    # True when the provider drops a repeated send of the same message (e.g. by an
    # idempotency key), so a send whose result is unknown may safely be retried.
    idempotent_send: ClassVar[bool] = False

    def identity_value(self, channel: Channel, external_id: str) -> str:
        return external_id

    def may_auto_reply(self, channel: Channel, conversation: Conversation) -> bool:
        """Whether Adesso may write an automatic message (an acknowledgement, an
        update) in this conversation now; a kind may rate-limit per sender."""
        return True

    def parse_inbound(self, channel: Channel, payload: Any) -> InboundMessage:
        raise NotImplementedError

    def send(self, channel: Channel, message: Message) -> str | None:
        """Deliver an outgoing message, once; called by the outbox worker, never inside a
        transaction. Returns the provider's id for it, if the provider gives one.

        Raises TemporaryDeliveryError, PermanentDeliveryError, PermanentChannelError
        or UnknownDeliveryResult; any other exception counts as an unknown result.
        """
        raise NotImplementedError
