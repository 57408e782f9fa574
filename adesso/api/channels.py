"""Channels: admins connect them and look after their inbound events; everyone may list them."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from ninja import Field, Router, Schema, Status
from pydantic import field_validator

from adesso.accounts.access import for_role
from adesso.accounts.models import Role
from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import NOT_BLANK, BodyIn, ChannelCreated, ChannelOut, ErrorOut
from adesso.channels.access import access_channel_for_admin, access_event_for_admin
from adesso.channels.actions import do_create_channel, do_replay_event
from adesso.channels.models import Channel, InboundEvent

router = Router()


@router.get("", response=list[ChannelOut])
def list_channels(request: AgentRequest) -> list[dict[str, Any]]:
    channels = Channel.objects.filter(organization_id=request.auth.organization_id).order_by("name")
    return [serialize.channel(c) for c in channels]


class ChannelIn(BodyIn):
    kind: str = Field(..., max_length=32, description="api, email or telegram")
    name: str = Field(..., min_length=1, max_length=200, pattern=NOT_BLANK)
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name is empty")
        return value.strip()


@router.post("", response={201: ChannelCreated, 400: ErrorOut, 403: ErrorOut})
@for_role(Role.ADMIN, "Only admins manage channels")
def create_channel(request: AgentRequest, payload: ChannelIn) -> Status:
    """Connect a channel (admins only). The token is shown once: store it.

    A kind with a provider connects first (telegram: `getMe` checks `config.bot_token`,
    then `setWebhook` registers `inbound_url` with a generated secret; when Telegram
    refuses that URL, e.g. plain http, the bot polls); a refusal is a 400 that stores
    nothing."""
    if not request.auth.is_admin:
        raise PermissionDenied("Only admins manage channels")
    channel, token = do_create_channel(request.auth.organization, payload.kind, payload.name, payload.config)
    return Status(
        201,
        {
            **serialize.channel(channel),
            "token": token,
            "signing_secret": channel.config.get("signing_secret"),
            "identity_secret": channel.config.get("identity_secret"),
        },
    )


class InboundEventOut(Schema):
    code: str
    external_id: str = Field(..., description="the provider's id for the event (Telegram's update_id)")
    state: str = Field(..., description="accepted, processed, ignored, failed (will retry) or quarantined")
    attempts: int
    received_at: dt.datetime
    processed_at: dt.datetime | None
    next_attempt_at: dt.datetime | None = Field(..., description="when it is tried again, while it waits")
    outcome: str = Field(..., description="message, edit, status, reaction, ignored (comma-separated)")
    message: str | None = Field(..., description="the code of the message it made")
    note: str = Field(..., description="why it was ignored, what it did besides")
    error: str = Field(..., description="the last failure, or why it is quarantined")


def _event(e: InboundEvent) -> dict[str, Any]:
    return {
        "code": e.code,
        "external_id": e.external_id,
        "state": e.state,
        "attempts": e.attempts,
        "received_at": e.received_at,
        "processed_at": e.processed_at,
        "next_attempt_at": e.next_attempt_at,
        "outcome": e.outcome,
        "message": e.message_code or None,
        "note": e.note,
        "error": e.error,
    }


@router.get("/{code}/events", response={200: list[InboundEventOut], 403: ErrorOut, 404: ErrorOut})
@for_role(Role.ADMIN, "Only admins manage channels")
def list_events(request: AgentRequest, code: str, state: str | None = None) -> Status:
    """The channel's latest inbound events (admins), newest first, at most 100;
    `state=quarantined` lists those waiting for a person."""
    channel = access_channel_for_admin(request.auth, code)
    events = InboundEvent.objects.filter(channel=channel).order_by("-received_at", "-pk")
    if state:
        events = events.filter(state=state)
    return Status(200, [_event(e) for e in events[:100]])


@router.post(
    "/{code}/events/{event}/replay", response={200: InboundEventOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
@for_role(Role.ADMIN, "Only admins manage channels")
def replay_event(request: AgentRequest, code: str, event: str) -> Status:
    """Process a quarantined, failed or ignored event again from its raw body (admins)."""
    found = access_event_for_admin(request.auth, code, event)
    return Status(200, _event(do_replay_event(found)))
