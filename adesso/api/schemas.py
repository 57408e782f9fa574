"""Shapes of what the API returns. Built from rows already loaded: no queries here."""

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Path, Schema
from pydantic import BeforeValidator, ConfigDict, Strict

from adesso.lib import errors

# A public code in a URL. Codes are short and plain; anything else (NUL, slashes,
# kilobytes of text) is refused before it reaches a query.
# Deep enough for any real pagination, small enough for every database's OFFSET.
MAX_OFFSET = 1_000_000_000

Code = Annotated[str, Path(..., pattern=r"^[A-Za-z0-9_-]{1,64}$", description="a public code")]


class BodyIn(Schema):
    """A request body: every field of the JSON type its schema documents, none converted.

    Lax conversion let `{"capacity": false}` set a capacity of 0, `{"confirmed": 0}`
    pass for a refusal and `{"priority": "2"}` for a number. Every request body's
    schema derives from this one (tests/test_api_openapi.py sends those values to
    every documented field and expects 422). Query strings stay lax: all they carry
    is text.
    """

    model_config = ConfigDict(strict=True)


def _iso_text(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError("must be ISO 8601 text with a time zone, not a number")
    return value


# Text that must not be blank (only spaces): documented, so that a client knows before sending.
NOT_BLANK = r"\S"

# A time in a strict body: ISO 8601 text (strict mode alone would want a Python datetime).
When = Annotated[dt.datetime, Strict(False), BeforeValidator(_iso_text)]


class AgentOut(Schema):
    code: str
    name: str
    email: str
    role: str
    language: str
    presence: str = "offline"


class TeamOut(Schema):
    code: str
    name: str


class ChannelOut(Schema):
    code: str
    kind: str
    name: str
    is_enabled: bool
    disabled_reason: str
    inbound_url: str | None = Field(
        None, description="where the provider posts this channel's events; null when Adesso fetches them (IMAP)")
    webhook_urls: dict[str, str] | None = Field(
        None, description="for a kind whose providers need several callback addresses: name to URL")


class ChannelCreated(ChannelOut):
    token: str
    # Key of the HMAC on outgoing webhooks (X-Adesso-Signature), when the kind signs them.
    signing_secret: str | None = None
    # Key of a web chat's identifier_hash (HMAC-SHA256 of the customer's identifier).
    identity_secret: str | None = None


class IdentityOut(Schema):
    kind: str = Field(..., description="email, phone, or a channel kind's handle (api...)")
    value: str = Field(..., description="as stored: a handle is qualified by its channel's code")
    label: str = Field(..., description="the kind as a person reads it: Email address, Phone number, Handle")
    display: str = Field(..., description="the address as a person reads it: the handle without its channel")
    channel: str | None = Field(None, description="the channel's code, for a handle that only means something there")
    unreachable_at: dt.datetime | None = Field(
        None, description="set when the channel said the customer cannot be reached there (e.g. blocked the bot)"
    )
    unreachable_reason: str = Field("", description="what the channel said; cleared when the customer writes again")


class ContactSummary(Schema):
    code: str
    name: str
    email: str
    phone: str
    tier: str


class ContactOut(ContactSummary):
    language: str
    notes: str
    merged_into: str | None
    created_at: dt.datetime
    identities: list[IdentityOut]


class AttachmentOut(Schema):
    code: str
    filename: str
    content_type: str
    size: int
    url: str


class MessageOut(Schema):
    code: str
    conversation: str
    channel: str
    channel_kind: str
    direction: str
    internal: bool
    auto: bool
    author: str | None
    sender: str | None = Field(
        None, description="a customer's message: the name it was sent under (before a merge, the merged contact's)"
    )
    text: str
    html: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    delivery_status: str
    attachments: list[AttachmentOut]


class SurveyOut(Schema):
    kind: Literal["csat", "nps", "ces"] = Field(description="csat (1-5), nps (0-10) or ces (1-7)")
    score: int | None
    reason: str | None = Field(description="Why, in the customer's words.")
    state: Literal["sent", "answered", "reasoned", "expired"]


class ConversationOut(Schema):
    code: str
    status: str
    priority: int
    channel: ChannelOut
    contact: ContactSummary
    assignee: AgentOut | None
    team: TeamOut | None
    language: str
    subject: str
    last_message_preview: str
    created_at: dt.datetime
    updated_at: dt.datetime
    waiting_since: dt.datetime | None
    waiting_seconds: int | None
    last_customer_message_at: dt.datetime | None
    first_response_at: dt.datetime | None
    snoozed_until: dt.datetime | None
    resolved_at: dt.datetime | None
    first_response_due_at: dt.datetime | None
    next_response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    sla_breached: bool
    queued_at: dt.datetime | None = Field(None, description="Set while waiting in the queue for a free agent.")
    skill: str = ""
    promise_at: dt.datetime | None = Field(
        None, description="When the last automatic message promised a human answer by.")
    tags: list[str] = Field([], description="the tags' names, sorted")
    survey: SurveyOut | None = Field(None, description="The latest survey sent after a resolution, if any.")


class EventOut(Schema):
    kind: str
    actor: str | None
    data: dict[str, object]
    created_at: dt.datetime


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]
    events: list[EventOut]
    handover_note: str | None
    resolution_reason: str | None = Field(
        None, description="why an agent resolved it with the customer's last message unanswered (latest such resolve)"
    )
    history: list[MessageOut]


class Page(Schema):
    count: int
    limit: int
    offset: int


class ConversationPage(Page):
    items: list[ConversationOut]


class ContactMergeOut(Schema):
    id: int
    source: str
    created_at: dt.datetime
    undone_at: dt.datetime | None


# Below the API: the kinds' inbound endpoints answer it too.
ErrorOut = errors.ErrorOut
