"""Intake for the `api` channel: POST /api/v1/inbound/{channel_code}."""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ValidationError as PydanticValidationError

from adesso.channels.api.adapter import InboundIn
from adesso.channels.base import InboundError
from adesso.channels.models import Channel
from adesso.channels.registry import get_kind
from adesso.intake.actions import do_receive_message

router = Router()


class InboundAccepted(Schema):
    conversation: str
    message: str
    duplicate: bool


class ErrorOut(Schema):
    error: str
    message: str


def _json(status: int, data: dict[str, object]) -> HttpResponse:
    # Rendered here rather than by ninja: the schemas above document the answers,
    # and skipping their validation on the way out is measurably cheaper.
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


def _error(status: int, code: str, message: str, **extra: object) -> HttpResponse:
    return _json(status, {"error": code, "message": message, **extra})


def _api_channel(code: str) -> Channel | None:
    # Hand-written SQL: the intake's hottest lookup, a unique-index hit, costs a
    # quarter of what the ORM spends compiling the same query (docs/performance.md).
    found = list(Channel.objects.raw("SELECT * FROM channels_channel WHERE code = %s AND kind = %s", [code, "api"]))
    return found[0] if found else None


@router.post(
    "/{channel_code}",
    auth=None,
    response={202: InboundAccepted, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 413: ErrorOut,
              415: ErrorOut, 422: ErrorOut},
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
    """Authenticated by the channel's token. Idempotent on `external_id`:
    sending the same message again returns the same codes and stores nothing."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.ADESSO_MAX_BODY_BYTES:
        return _error(413, "too_large", f"The body is {length} bytes; the limit is "
                      f"{settings.ADESSO_MAX_BODY_BYTES}")
    channel = _api_channel(channel_code)
    if channel is None:
        return _error(404, "unknown_channel", f"No API channel with code {channel_code!r}")
    auth = request.headers.get("Authorization", "")
    scheme, _, secret = auth.partition(" ")
    if scheme.lower() != "bearer" or not channel.token_matches(secret.strip()):
        return _error(401, "unauthorized", "Send the channel's token as 'Authorization: Bearer <token>'")
    if not channel.is_enabled:
        return _error(404, "channel_disabled", "This channel is disabled")
    content_type = request.content_type or ""
    if content_type != "application/json":
        return _error(415, "unsupported_media_type", "Send the message as application/json")
    try:
        raw = request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _error(400, "invalid_utf8", f"The body is not valid UTF-8 (byte {exc.start})")
    try:
        data = InboundIn.model_validate_json(raw)
    except PydanticValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return _error(400, "invalid_json", "The body is not valid JSON: " + details[0]["message"])
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return _error(422, "invalid", summary, details=details)
    try:
        parsed = get_kind(channel.kind).parse_inbound(channel, data)
    except InboundError as exc:
        return _error(422, "invalid", str(exc))
    received = do_receive_message(channel, parsed)
    return _json(202, {
        "conversation": received.conversation.code,
        "message": received.message.code,
        "duplicate": not received.created,
    })
