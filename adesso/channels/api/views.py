"""The `api` kind's inbound endpoints, mounted at /api/v1/inbound by the registry
(`ApiChannel.api_router`), authenticated by the channel's token:

- POST /api/v1/inbound/{channel}: the message is checked whole, stored raw with one
  INSERT through the pipeline (its message code allocated there), answered 202 with
  the event's and the message's codes; the worker makes the message later.
- GET /api/v1/inbound/{channel}/events/{event}: what became of it.
"""

from __future__ import annotations

import json
from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt
from ninja import Router, Schema

from adesso.channels.api.adapter import InboundIn, InvalidInbound
from adesso.channels.base import VerificationError
from adesso.channels.models import Channel, EventState, InboundEvent
from adesso.channels.pipeline import find_channel, store
from adesso.channels.registry import get_kind
from adesso.lib.codes import new_code
from adesso.lib.errors import ErrorOut

KIND = "api"
router = Router()


class InboundAccepted(Schema):
    event: str
    message: str
    duplicate: bool


class InboundEventState(Schema):
    event: str
    state: Literal["accepted", "processed", "failed", "quarantined"]
    conversation: str | None
    message: str | None
    error: str | None


# A stored event's state as the client sees it: an ignored event is finished too
# (an API message always becomes one, so it is not expected here).
_STATES = {
    EventState.ACCEPTED: "accepted",
    EventState.PROCESSED: "processed",
    EventState.IGNORED: "processed",
    EventState.FAILED: "failed",
    EventState.QUARANTINED: "quarantined",
}


def _json(status: int, data: dict[str, object]) -> HttpResponse:
    # Rendered here rather than by ninja: the schemas above document the answers,
    # and skipping their validation on the way out is measurably cheaper.
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


def _error(status: int, code: str, message: str, **extra: object) -> HttpResponse:
    return _json(status, {"error": code, "message": message, **extra})


def _opened(request: HttpRequest, channel_code: str) -> Channel | HttpResponse:
    """The channel whose token the request carries, or the error to answer."""
    channel = find_channel(KIND, channel_code)
    if channel is None:
        return _error(404, "unknown_channel", f"No API channel with code {channel_code!r}")
    try:
        get_kind(KIND).verify(channel, request)
    except VerificationError as exc:
        return _error(401, "unauthorized", str(exc))
    return channel


@router.post(
    "/{channel_code}",
    auth=None,
    url_name="api_channel_inbound",
    response={
        202: InboundAccepted,
        400: ErrorOut,
        401: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ErrorOut,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": InboundIn.model_json_schema()}},
        },
        "security": [{"ChannelToken": []}],
    },
    summary="Receive a customer's message on an API channel",
)
def inbound(request: HttpRequest, channel_code: str) -> HttpResponse:
    """Authenticated by the channel's token. The message is checked, stored and answered
    at once (202) with the event's code and the message's code; a worker then files it
    in the contact's conversation (`GET .../events/{event}` tells which, once processed).
    Idempotent on `external_id`: sending the same message again returns the same codes,
    with `duplicate` true, and stores nothing. Bad input is a 4xx and stores nothing."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.ADESSO_MAX_BODY_BYTES:
        return _error(413, "too_large", f"The body is {length} bytes; the limit is {settings.ADESSO_MAX_BODY_BYTES}")
    channel = _opened(request, channel_code)
    if isinstance(channel, HttpResponse):
        return channel
    if not channel.is_enabled:
        return _error(404, "channel_disabled", "This channel is disabled")
    if (request.content_type or "") != "application/json":
        return _error(415, "unsupported_media_type", "Send the message as application/json")
    body = request.body
    try:
        identity = get_kind(KIND).identify(channel, body)
    except InvalidInbound as exc:
        extra = {"details": exc.details} if exc.details else {}
        return _error(exc.status, exc.code, str(exc), **extra)
    stored = store(channel, identity, body, message_code=new_code())
    return _json(202, {"event": stored.code, "message": stored.message_code, "duplicate": not stored.created})


@csrf_exempt
def inbound_direct(request: HttpRequest, channel_code: str) -> HttpResponse:
    """`inbound` without the router around it (urls.py says why); the same answers."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"], "Method not allowed")
    return inbound(request, channel_code)


@router.get(
    "/{channel_code}/events/{event_code}",
    auth=None,
    url_name="api_channel_event",
    response={200: InboundEventState, 401: ErrorOut, 404: ErrorOut},
    openapi_extra={"security": [{"ChannelToken": []}]},
    summary="What became of a message received on an API channel",
)
def inbound_event(request: HttpRequest, channel_code: str, event_code: str) -> HttpResponse:
    """Authenticated by the channel's token; only this channel's events. `state`:
    `accepted` (waiting for the worker), `processed` (`conversation` is known),
    `failed` (tried again later; `error` says why) or `quarantined` (it will not be
    tried again until an admin replays it; `error` says why). `message` is the code
    promised on accept."""
    channel = _opened(request, channel_code)
    if isinstance(channel, HttpResponse):
        return channel
    event = (
        InboundEvent.objects.filter(channel_id=channel.pk, code=event_code)
        .only("code", "state", "message_code", "error")
        .first()
    )
    if event is None:
        return _error(404, "not_found", f"No event {event_code!r} on this channel")
    conversation = None
    if event.state in (EventState.PROCESSED, EventState.IGNORED) and event.message_code:
        from adesso.conversations.models import Message

        conversation = (
            Message.objects.filter(
                organization_id=channel.organization_id, channel_id=channel.pk, code=event.message_code
            )
            .values_list("conversation__code", flat=True)
            .first()
        )
    return _json(
        200,
        {
            "event": event.code,
            "state": _STATES[EventState(event.state)],
            "conversation": conversation,
            "message": event.message_code or None,
            "error": event.error or None,
        },
    )
