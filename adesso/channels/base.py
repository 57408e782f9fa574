"""The shape every channel kind has.

A kind parses what its provider sends into `InboundMessage`s (after the
signature has been checked on the raw body) and sends an agent's reply out.
Kinds on the inbound pipeline (docs/channels.md) `verify` the raw request,
`identify` the event (stored at once), then `parse` it in a worker into
normalised events: messages, edits, status updates, reactions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from django.http import HttpRequest

    from adesso.channels.models import Channel, InboundEvent
    from adesso.conversations.models import Conversation, Message


def secret_field(**kwargs: Any) -> Any:
    """A configuration field holding a secret (token, password, signing key): marked in
    the schema, so that pages and the API never show it back, and kept out of reprs."""
    return Field(repr=False, json_schema_extra={"secret": True}, **kwargs)


def secret_fields(schema: type[BaseModel]) -> list[str]:
    """The names of a configuration schema's secret fields."""
    return [
        name
        for name, info in schema.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret")
    ]


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


class RecipientUnreachable(PermanentDeliveryError):
    """The provider will not deliver to this customer's address any more (Telegram's 403:
    they blocked the bot): the message fails and the contact's identity (`identity_kind`,
    `identity_value`) is flagged unreachable until the customer writes again."""

    def __init__(self, text: str, identity_kind: str, identity_value: str) -> None:
        super().__init__(text)
        self.identity_kind = identity_kind
        self.identity_value = identity_value


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
    # The language the provider says the person uses ("it" or "en"; "" when it does not
    # say, or says another): a new contact's language (Telegram's `language_code`).
    language: str = ""


@dataclass
class InboundMessage:
    """A customer's message, normalised, ready for `do_receive_message`."""

    external_id: str
    sender: InboundSender
    text: str
    html: str = ""
    sent_at: dt.datetime | None = None
    # When Adesso accepted it (the pipeline's stored event): the customer's wait, and the
    # SLA clock, start there, not when a worker got to it.
    received_at: dt.datetime | None = None
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
    # Files the provider keeps until asked (Telegram's file_id): the pipeline's worker
    # fetches each with the kind's `fetch_attachment` before the message is stored.
    remote_attachments: list[RemoteAttachment] = field(default_factory=list)
    # The message's code when it was promised before the message existed (the API kind
    # answers it on accept): the message is stored with it. Empty: a new code.
    code: str = ""


# What `parse` makes of one raw event (adesso/channels/pipeline.py): besides
# InboundMessage, these. A kind returns [] or Ignored(reason) for what it skips.


@dataclass
class RemoteAttachment:
    """A file the provider holds: `remote_id` is what `fetch_attachment` asks for."""

    remote_id: str
    filename: str
    content_type: str
    size: int | None = None


@dataclass
class MessageEdit:
    """The customer changed a message they had sent (`external_id` is the original's):
    stored as a new message marked as an edit, in the original's conversation."""

    external_id: str
    edit_id: str  # unique per version, the new message's external id
    sender: InboundSender
    text: str
    edited_at: dt.datetime | None = None


@dataclass
class StatusUpdate:
    """The provider's news about one of our outgoing messages (by the id `send` returned)."""

    provider_message_id: str
    status: str  # "delivered", "read" or "failed"
    error: str = ""


@dataclass
class Reaction:
    """The customer reacted (an emoji) to a message; `emoji` empty when they took it back."""

    external_id: str  # the message reacted to: ours (its provider id) or theirs
    sender: InboundSender
    emoji: str


@dataclass
class Ignored:
    """Nothing for Adesso in this event, and why (recorded on the stored event)."""

    reason: str


Normalised = InboundMessage | MessageEdit | StatusUpdate | Reaction | Ignored


@dataclass
class EventIdentity:
    """What `identify` reads from a raw event before it is stored: the provider's id
    (unique per channel), whose events it must be processed in order with, and where."""

    external_id: str
    sender_key: str = ""
    position: int = 0  # the provider's order among one sender's events (update_id)


@dataclass
class SurveyQuestion:
    """A satisfaction survey's question (adesso.surveys) for a kind to render as it can:
    the sentence, the scale, the hint to reply with a digit and, for kinds that can link,
    the public page of each score (score -> absolute URL)."""

    text: str
    low: int
    high: int
    reply_hint: str
    language: str = "it"
    links: dict[int, str] = field(default_factory=dict)


@dataclass
class CustomerFact:
    """Something a kind knows about the customer of a conversation, shown in the agents'
    conversation sidebar (`customer_facts`): a label, the text, and a link if it is one."""

    label: str
    text: str
    url: str = ""


class VerificationError(Exception):
    """The request is not from the provider (bad signature or secret): refused, nothing stored."""


class ConnectError(Exception):
    """The provider refused to connect the channel (bad token...); the text is for the admin."""

    def __init__(self, text: str, code: str = "connect_failed") -> None:
        super().__init__(text)
        self.code = code


class ChannelKind:
    kind: ClassVar[str]
    label: ClassVar[str]
    # Identity kind under which the sender's external id is stored.
    identity_kind: ClassVar[str]
    config_schema: ClassVar[type[BaseModel]]
    # True when the provider drops a repeated send of the same message (e.g. by an
    # idempotency key), so a send whose result is unknown may safely be retried.
    idempotent_send: ClassVar[bool] = False
    # True when `send` delivers the message's attachments (agents' replies may carry files).
    supports_attachments: ClassVar[bool] = False
    # What else templates and views may ask instead of testing the kind's name:
    # replies from message templates only (WhatsApp outside its window)...
    supports_templates: ClassVar[bool] = False
    # ... replies seen by everyone (a public post's comments)...
    public_replies: ClassVar[bool] = False
    # ... how long after the customer's last message a free reply may be sent (None: always)...
    reply_window: ClassVar[dt.timedelta | None] = None
    # ... a "typing" indicator, and edits of their messages that customers make.
    supports_typing: ClassVar[bool] = False
    supports_edits: ClassVar[bool] = False
    # ... messages with a subject line (a mail's Subject)...
    subject_lines: ClassVar[bool] = False
    # ... and a page showing a message as the provider delivered it: its URL name, given
    # the message's code ("" for none).
    original_view: ClassVar[str] = ""
    # Where the provider posts this channel's events, below SITE_URL ("{code}": the channel's).
    inbound_path: ClassVar[str] = ""
    # Request headers stored with a raw event because `parse` needs them (never secrets).
    stored_headers: ClassVar[tuple[str, ...]] = ()
    # The dotted path of the kind's configuration form (its `forms.py`), if it has one.
    config_form: ClassVar[str] = ""
    # The dotted path of a django-ninja Router holding the kind's inbound endpoints, for a
    # kind whose callers are REST clients (api): mounted at /api/v1/inbound by the
    # registry instead of a `urls.py`.
    api_router: ClassVar[str] = ""

    def capabilities(self) -> dict[str, Any]:
        return {
            "attachments": self.supports_attachments,
            "templates": self.supports_templates,
            "public_replies": self.public_replies,
            "reply_window": self.reply_window,
            "typing": self.supports_typing,
            "edits": self.supports_edits,
            "subjects": self.subject_lines,
            "originals": self.original_view,
        }

    def inbound_url(self, channel: Channel) -> str | None:
        """The address to give the provider; None for a kind that fetches its events."""
        if not self.inbound_path:
            return None
        from django.conf import settings

        return settings.SITE_URL.rstrip("/") + self.inbound_path.format(code=channel.code)

    def webhook_urls(self, channel: Channel) -> dict[str, str] | None:
        """For a kind whose providers need several callback addresses: name -> URL."""
        return None

    def connect(self, channel: Channel) -> None:
        """Called once when an admin connects the channel, before it is stored and outside
        any transaction: check the credentials with the provider and register the inbound
        address; may complete `channel.config`. Raises ConnectError."""

    def test_connection(self, channel: Channel) -> str:
        """The channels page's "send a test": check, without a customer, that the channel
        works (Telegram: getMe; the api kind: a signed test call of its webhook). Returns
        what was checked, for the admin; raises ConnectError with what went wrong. By
        default only the stored configuration is checked against the schema."""
        from django.utils.translation import gettext as _
        from pydantic import ValidationError

        try:
            self.config_schema.model_validate(channel.config)
        except ValidationError as exc:
            raise ConnectError(_("The configuration is invalid: %s") % exc.errors()[0]["msg"]) from None
        return _("The configuration is complete; %(kind)s has nothing more to check from here.") % {
            "kind": self.label
        }

    def config_template(self) -> str:
        """The configuration form's fragment on the channels page (docs/channels.md)."""
        return f"{self.kind}_channel/_config.html"

    def customer_facts(self, channel: Channel, conversation: Conversation) -> list[CustomerFact]:
        """What the kind knows of the customer beyond the contact (the web chat: the page
        the visitor is on, their browser's language), for the conversation's sidebar."""
        return []

    def shown_once(self, channel: Channel, token: str) -> dict[str, str]:
        """What the admin must copy when the channel is connected and will never see again
        (label -> value): generated credentials the provider's side needs (the api kind's
        token and signing key). Nothing by default."""
        return {}

    def verify(self, channel: Channel, request: HttpRequest) -> None:
        """Check on the raw request that the provider sent it; raises VerificationError."""
        raise VerificationError("This kind receives no webhooks")

    def raw_events(self, channel: Channel, request: HttpRequest) -> list[bytes]:
        """The raw events a verified request carries, as stored: the body itself for most
        kinds; email takes the mail out of the provider's form or JSON (its bytes untouched)."""
        return [request.body]

    def identify(self, channel: Channel, body: bytes) -> EventIdentity:
        """The id, sender and order of a verified raw event, read cheaply (it runs in the
        web request); raises InboundError for a body that cannot be an event."""
        raise NotImplementedError

    def parse(self, channel: Channel, body: bytes) -> list[Normalised]:
        """One stored raw event (in the worker) -> normalised events. InboundError: it
        never will be one (quarantined at once); any other error is retried."""
        raise NotImplementedError

    def apply(self, channel: Channel, item: Normalised, event: InboundEvent) -> tuple[str, str, str] | None:
        """Store one of the kind's normalised events its own way, in the pipeline's
        transaction: (outcome kind, note, message code); None leaves it to the pipeline
        (email keeps the mail with its threading headers; most kinds need nothing)."""
        return None

    def polls(self, channel: Channel) -> bool:
        """Whether this channel's events are fetched by `adesso pollchannels` (no public address)."""
        return False

    def poll(self, channel: Channel, after: int, timeout: float) -> list[bytes]:
        """Raw events after position `after`, waiting up to `timeout` seconds for one
        (long polling); each is then stored like a webhook's. Raises on failure."""
        raise NotImplementedError

    def fetch_attachment(self, channel: Channel, remote: RemoteAttachment) -> InboundAttachment:
        """Download a file the provider holds (in the worker); raises InboundError when it
        is too big or gone, any other error is retried."""
        raise NotImplementedError

    def identity_value(self, channel: Channel, external_id: str) -> str:
        return external_id

    def may_auto_reply(self, channel: Channel, conversation: Conversation) -> bool:
        """Whether Adesso may write an automatic message (an acknowledgement, an
        update) in this conversation now; a kind may rate-limit per sender."""
        return True

    def survey_question(self, channel: Channel, conversation: Conversation, question: SurveyQuestion) -> str:
        """The text of the automatic message asking a resolved conversation's customer for a
        score. By default the question and the digits to reply with: every kind that carries
        text can show it; a kind with links (email) or buttons adds them."""
        return f"{question.text}\n{question.reply_hint}"

    def parse_inbound(self, channel: Channel, payload: Any) -> InboundMessage:
        raise NotImplementedError

    def send_typing(self, channel: Channel, conversation: Conversation) -> None:
        """Show the customer that an agent is writing, for a kind that `supports_typing`;
        a courtesy: called outside any transaction, never raises."""
        return None

    def send(self, channel: Channel, message: Message) -> str | None:
        """Deliver an outgoing message, once; called by the outbox worker, never inside a
        transaction. Returns the provider's id for it, if the provider gives one.

        Raises TemporaryDeliveryError, PermanentDeliveryError, PermanentChannelError
        or UnknownDeliveryResult; any other exception counts as an unknown result.
        """
        raise NotImplementedError
