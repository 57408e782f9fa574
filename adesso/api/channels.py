"""Channels: admins connect them; everyone may list them."""

from typing import Any

from django.core.exceptions import PermissionDenied
from ninja import Field, Router, Schema, Status
from pydantic import field_validator

from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import ChannelCreated, ChannelOut, ErrorOut
from adesso.channels.actions import do_create_channel
from adesso.channels.models import Channel

router = Router()


@router.get("", response=list[ChannelOut])
def list_channels(request: AgentRequest) -> list[dict[str, Any]]:
    channels = Channel.objects.filter(organization_id=request.auth.organization_id).order_by("name")
    return [serialize.channel(c) for c in channels]


class ChannelIn(Schema):
    kind: str = Field(..., max_length=32, description="api, email or telegram")
    name: str = Field(..., min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name is empty")
        return value.strip()


@router.post("", response={201: ChannelCreated, 400: ErrorOut, 403: ErrorOut})
def create_channel(request: AgentRequest, payload: ChannelIn) -> Status:
    """Connect a channel (admins only). The token is shown once: store it.

    A kind with a provider connects first (telegram: `getMe` checks `config.bot_token`,
    then `setWebhook` registers `inbound_url` with a generated secret, or polling is
    chosen when SITE_URL is not https); a refusal is a 400 that stores nothing."""
    if not request.auth.is_admin:
        raise PermissionDenied("Only admins manage channels")
    channel, token = do_create_channel(request.auth.organization, payload.kind, payload.name, payload.config)
    return Status(
        201,
        {
            **serialize.channel(channel),
            "token": token,
            "signing_secret": channel.config.get("signing_secret"),
        },
    )
