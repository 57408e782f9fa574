"""The only way views fetch channels and their inbound events: scoped to the caller's
organisation; managing them is for admins. 404 and 403 are decided here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from adesso.accounts.models import User
from adesso.channels.models import Channel, InboundEvent


def access_channel_for_admin(user: User, code: str) -> Channel:
    if not user.is_admin:
        raise PermissionDenied("Only admins manage channels")
    channel = Channel.objects.filter(organization_id=user.organization_id, code=code).first()
    if channel is None:
        raise Http404("No such channel")
    return channel


def access_event_for_admin(user: User, channel_code: str, code: str) -> InboundEvent:
    channel = access_channel_for_admin(user, channel_code)
    event = InboundEvent.objects.filter(channel=channel, code=code).select_related("channel").first()
    if event is None:
        raise Http404("No such event")
    return event
