"""The web chat's public endpoints, mounted at /chat/ by the registry. No cookies: the
visitor is the signed token the widget keeps in localStorage (Authorization: Bearer).

- GET  /chat/widget.js: the widget (static, hand-written).
- GET  /chat/<code>/config: name, colour, greeting, language for the widget.
- POST /chat/<code>/session: start or continue: {token?, identifier?, identifier_hash?}
  -> {token, visitor}; a forged identifier_hash is 403.
- POST /chat/<code>/messages: {echo_id, text, page?, language?, name?} -> 202; stored
  through the pipeline (one INSERT), the worker makes the message.
- GET  /chat/<code>/messages?after=<id>: the conversation after a cursor (REST is the
  source of truth; the websocket only says when to look).
- POST /chat/<code>/contact: {email}: where the answer goes when the visitor has left
  (an `email` identity of their contact); a bad address is 422 and stores nothing.

Every request's Origin must be one of the channel's allowed_origins (CORS headers only
for those; any other is 403 and stores nothing); past the rate limits, 429.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError

from adesso.accounts.throttle import client_ip
from adesso.channels.models import Channel
from adesso.channels.pipeline import accept, find_channel
from adesso.channels.registry import get_kind
from adesso.channels.webchat import offline, visitors
from adesso.channels.webchat.adapter import TEXT_LIMIT, StoredMessage, identifier_ok
from adesso.channels.webchat.visitors import Visitor

KIND = "webchat"
WIDGET = Path(__file__).resolve().parent / "static" / "widget.js"
MAX_BODY = 32 * 1024


def _json(status: int, data: dict[str, Any], origin: str = "") -> HttpResponse:
    response = HttpResponse(json.dumps(data), status=status, content_type="application/json")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response


def _error(status: int, code: str, message: str, origin: str = "") -> HttpResponse:
    return _json(status, {"error": code, "message": message}, origin)


def _opened(request: HttpRequest, channel_code: str) -> tuple[Channel, str] | HttpResponse:
    """The channel and the request's allowed Origin, or the refusal to answer."""
    channel = find_channel(KIND, channel_code)
    if channel is None or not channel.is_enabled:
        return _error(404, "unknown_channel", "No web chat here")
    origin = request.headers.get("Origin", "")
    if not visitors.origin_allowed(channel, origin):
        return _error(403, "origin_not_allowed", "This site may not show this chat")
    if request.method == "OPTIONS":
        response = _json(204, {}, origin)
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response["Access-Control-Max-Age"] = "600"
        return response
    if visitors.over_limit(f"ip:{channel.pk}:{client_ip(request)}", visitors.ip_limit()):
        return _error(429, "too_many_requests", "Too many requests from this address: wait a minute", origin)
    return channel, origin


def _body(request: HttpRequest, origin: str) -> dict[str, Any] | HttpResponse:
    if len(request.body) > MAX_BODY:
        return _error(413, "too_large", f"The body is over {MAX_BODY} bytes", origin)
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return _error(400, "invalid", "Send JSON", origin)
    if not isinstance(data, dict):
        return _error(400, "invalid", "Send a JSON object", origin)
    return data


def _visitor(request: HttpRequest, channel: Channel, origin: str) -> Visitor | HttpResponse:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    visitor = visitors.read_token(channel.code, token)
    if visitor is None:
        return _error(401, "bad_token", "Start a session first (POST .../session)", origin)
    return visitor


def widget(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_widget(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@cache
def _widget() -> bytes:
    return WIDGET.read_bytes()


@csrf_exempt
def config(request: HttpRequest, channel_code: str) -> HttpResponse:
    opened = _opened(request, channel_code)
    if isinstance(opened, HttpResponse):
        return opened
    channel, origin = opened
    conf = channel.config
    return _json(
        200,
        {
            "name": conf.get("company_name") or channel.name,
            "colour": conf.get("colour") or "#1f6feb",
            "greeting": conf.get("greeting") or "",
            "language": conf.get("language") or "",
            # The websocket is on the live process's port when it has its own (settings.LIVE_PORT).
            "live_port": settings.LIVE_PORT,
        },
        origin,
    )


@csrf_exempt
def session(request: HttpRequest, channel_code: str) -> HttpResponse:
    opened = _opened(request, channel_code)
    if isinstance(opened, HttpResponse):
        return opened
    channel, origin = opened
    if request.method != "POST":
        return _error(405, "method_not_allowed", "POST here", origin)
    data = _body(request, origin)
    if isinstance(data, HttpResponse):
        return data
    identifier = data.get("identifier") or ""
    given = data.get("identifier_hash") or ""
    if not isinstance(identifier, str) or not isinstance(given, str) or len(identifier) > 200:
        return _error(400, "invalid", "identifier and identifier_hash are strings", origin)
    identifier = identifier.strip()
    if identifier and not identifier_ok(str(channel.config.get("identity_secret", "")), identifier, given):
        return _error(403, "forged_identity", "identifier_hash does not match identifier", origin)
    token = data.get("token")
    known = visitors.read_token(channel.code, token) if isinstance(token, str) else None
    if known is not None and known.identifier == identifier:
        visitor = known
    elif known is not None and not known.identifier:
        visitor = Visitor(channel.code, known.visitor, identifier)  # logged in on the site since
    else:
        visitor = visitors.new_visitor(channel.code, identifier)  # a new browser, or another customer
    return _json(200, {"token": visitor.token(), "visitor": visitor.visitor, "identified": bool(identifier)}, origin)


@csrf_exempt
def inbound(request: HttpRequest, channel_code: str) -> HttpResponse:
    opened = _opened(request, channel_code)
    if isinstance(opened, HttpResponse):
        return opened
    channel, origin = opened
    visitor = _visitor(request, channel, origin)
    if isinstance(visitor, HttpResponse):
        return visitor
    if request.method == "GET":
        try:
            after = max(0, int(request.GET.get("after") or 0))
        except ValueError:
            return _error(400, "invalid", "after is a message id", origin)
        offline.mark_seen(channel.pk, visitor.sender)
        found = visitors.messages_after(channel, visitor, after)
        cursor = found[-1]["id"] if found else after
        return _json(200, {"messages": found, "cursor": cursor}, origin)
    if request.method != "POST":
        return _error(405, "method_not_allowed", "GET or POST here", origin)
    if visitors.over_limit(f"visitor:{channel.pk}:{visitor.sender}", visitors.visitor_limit()):
        return _error(429, "too_many_requests", "Too many messages: wait a minute", origin)
    data = _body(request, origin)
    if isinstance(data, HttpResponse):
        return data
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        return _error(422, "invalid", "text is required", origin)
    if len(text) > TEXT_LIMIT:
        return _error(422, "invalid", f"text is over {TEXT_LIMIT} characters", origin)
    try:
        stored = StoredMessage(
            visitor=visitor.visitor,
            identifier=visitor.identifier,
            echo_id=_text(data.get("echo_id"), 100),
            text=text.strip(),
            name=_text(data.get("name"), 200),
            page=_text(data.get("page"), 2000),
            language=_text(data.get("language"), 20),
            sent_at=timezone.now(),
        )
    except ValidationError as exc:
        return _error(422, "invalid", exc.errors()[0]["msg"] + f" ({exc.errors()[0]['loc'][0]})", origin)
    body = stored.model_dump_json().encode()
    identity = get_kind(KIND).identify(channel, body)
    event, created = accept(channel, identity, body)
    return _json(202, {"event": event.code, "echo_id": stored.echo_id, "duplicate": not created}, origin)


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


CONTACTS_PER_MINUTE = 5


@csrf_exempt
def contact(request: HttpRequest, channel_code: str) -> HttpResponse:
    opened = _opened(request, channel_code)
    if isinstance(opened, HttpResponse):
        return opened
    channel, origin = opened
    if request.method != "POST":
        return _error(405, "method_not_allowed", "POST here", origin)
    visitor = _visitor(request, channel, origin)
    if isinstance(visitor, HttpResponse):
        return visitor
    if visitors.over_limit(f"contact:{channel.pk}:{visitor.sender}", CONTACTS_PER_MINUTE):
        return _error(429, "too_many_requests", "Too many tries: wait a minute", origin)
    data = _body(request, origin)
    if isinstance(data, HttpResponse):
        return data
    contact_id = visitors.contact_id(channel, visitor)
    if contact_id is None:
        return _error(409, "no_conversation", "Write a message first", origin)
    address = offline.leave_email(channel, contact_id, data.get("email"))
    if address is None:
        return _error(422, "invalid_email", "email is not an email address", origin)
    return _json(200, {"email": address}, origin)
