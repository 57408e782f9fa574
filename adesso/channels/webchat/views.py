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
- POST /chat/<code>/files: multipart `file`, `echo_id`, `text`?: an image or a document
  (size and type checked, 413/415 and nothing stored otherwise) -> 202 as a message.
- GET  /chat/<code>/files/<signed>: a file of the conversation, by the signed link the
  message list gives (no token: an <img> sends none).
- POST /chat/<code>/page: {url, title?, language?}: the page the visitor is on (when the
  widget starts and on each navigation) and the browser's language, for the agents.
- POST /chat/<code>/transcript: {email?, language?}: the latest conversation mailed to
  `email` (then kept) or to the contact's address; 422 when there is none.
- POST /chat/<code>/contact: {email} or {phone}: where the answer goes when the visitor
  has left (an `email` identity of their contact), or a number to be called back (a
  `phone` identity); a bad address or number is 422 and stores nothing.

Every request's Origin must be one of the channel's allowed_origins (CORS headers only
for those; any other is 403 and stores nothing); past the rate limits, 429.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError

from adesso.accounts.throttle import client_ip
from adesso.channels.models import Channel
from adesso.channels.pipeline import accept, find_channel
from adesso.channels.registry import get_kind
from adesso.channels.webchat import offline, visitors
from adesso.channels.webchat.adapter import (
    TEXT_LIMIT,
    StoredFile,
    StoredMessage,
    identifier_ok,
    normalize_origin,
)
from adesso.channels.webchat.visitors import Visitor
from adesso.conversations.files import ALLOWED, check_file, check_size
from adesso.lib.errors import ActionError

KIND = "webchat"
log = logging.getLogger(__name__)
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


@dataclass
class Chat:
    """What every checked request carries into its view: the channel, the allowed
    Origin, the visitor (None for the views before the session) and the JSON body."""

    request: HttpRequest
    channel: Channel
    origin: str
    visitor: Visitor | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def me(self) -> Visitor:
        assert self.visitor is not None
        return self.visitor

    def json(self, status: int, data: dict[str, Any]) -> HttpResponse:
        return _json(status, data, self.origin)

    def error(self, status: int, code: str, message: str) -> HttpResponse:
        return _error(status, code, message, self.origin)


def chat_view(
    methods: tuple[str, ...],
    *,
    visitor: bool = True,
    limit: tuple[str, Callable[[], int]] | None = None,
    json_body: bool = True,
) -> Callable[[Callable[[Chat], HttpResponse]], Callable[..., HttpResponse]]:
    """The checks every visitor endpoint passes, in this order: the channel and its
    allowed Origin (CORS preflight answered here), the per-address rate limit, the
    method, the visitor's signed token (`visitor`), the per-visitor limit of POSTs
    (`limit`: its name and how many a minute) and the JSON body of a POST (`json_body`).
    A refusal answers before the view runs, so nothing is stored."""

    def wrap(view: Callable[[Chat], HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def checked(request: HttpRequest, channel_code: str) -> HttpResponse:
            opened = _opened(request, channel_code)
            if isinstance(opened, HttpResponse):
                return opened
            chat = Chat(request, *opened)
            if request.method not in methods:
                return chat.error(405, "method_not_allowed", f"{' or '.join(methods)} here")
            if visitor:
                found = _visitor(request, chat.channel, chat.origin)
                if isinstance(found, HttpResponse):
                    return found
                chat.visitor = found
            if request.method == "POST":
                if limit is not None and chat.visitor is not None:
                    name, per_minute = limit
                    if visitors.over_limit(f"{name}:{chat.channel.pk}:{chat.visitor.sender}", per_minute()):
                        return chat.error(429, "too_many_requests", "Too many tries: wait a minute")
                if json_body:
                    data = _body(request, chat.origin)
                    if isinstance(data, HttpResponse):
                        return data
                    chat.data = data
            return view(chat)

        return checked

    return wrap


def widget(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_widget(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@cache
def _widget() -> bytes:
    return WIDGET.read_bytes()


@chat_view(("GET",), visitor=False)
def config(chat: Chat) -> HttpResponse:
    conf = chat.channel.config
    return chat.json(
        200,
        {
            "name": conf.get("company_name") or chat.channel.name,
            "colour": conf.get("colour") or "#1f6feb",
            "greeting": conf.get("greeting") or "",
            "language": conf.get("language") or "",
            # The websocket is on the live process's port when it has its own (settings.LIVE_PORT).
            "live_port": settings.LIVE_PORT,
            # What the visitor may attach (checked again by the server).
            "max_file": settings.ADESSO_MAX_ATTACHMENT_BYTES,
            "accept": ",".join(f".{ext}" for ext, kind in sorted(ALLOWED.items()) if kind in VISITOR_TYPES),
        },
    )


@chat_view(("POST",), visitor=False)
def session(chat: Chat) -> HttpResponse:
    channel, data = chat.channel, chat.data
    identifier = data.get("identifier") or ""
    given = data.get("identifier_hash") or ""
    if not isinstance(identifier, str) or not isinstance(given, str) or len(identifier) > 200:
        return chat.error(400, "invalid", "identifier and identifier_hash are strings")
    identifier = identifier.strip()
    if identifier and not identifier_ok(str(channel.config.get("identity_secret", "")), identifier, given):
        return chat.error(403, "forged_identity", "identifier_hash does not match identifier")
    token = data.get("token")
    known = visitors.read_token(channel.code, token) if isinstance(token, str) else None
    if known is not None and known.identifier == identifier:
        visitor = known
    elif known is not None and not known.identifier:
        visitor = Visitor(channel.code, known.visitor, identifier)  # logged in on the site since
    else:
        visitor = visitors.new_visitor(channel.code, identifier)  # a new browser, or another customer
    return chat.json(200, {"token": visitor.token(), "visitor": visitor.visitor, "identified": bool(identifier)})


@chat_view(("GET", "POST"), limit=("visitor", visitors.visitor_limit))
def inbound(chat: Chat) -> HttpResponse:
    channel, visitor = chat.channel, chat.me
    if chat.request.method == "GET":
        try:
            after = max(0, int(chat.request.GET.get("after") or 0))
        except ValueError:
            return chat.error(400, "invalid", "after is a message id")
        offline.mark_seen(channel.pk, visitor.sender)
        found = visitors.messages_after(channel, visitor, after)
        cursor = found[-1]["id"] if found else after
        return chat.json(200, {"messages": found, "cursor": cursor})
    data = chat.data
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        return chat.error(422, "invalid", "text is required")
    if len(text) > TEXT_LIMIT:
        return chat.error(422, "invalid", f"text is over {TEXT_LIMIT} characters")
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
        return _invalid(chat, exc)
    return _accept(chat, stored)


def _invalid(chat: Chat, exc: ValidationError) -> HttpResponse:
    first = exc.errors()[0]
    where = f" ({first['loc'][0]})" if first["loc"] else ""
    return chat.error(422, "invalid", first["msg"] + where)


def _accept(chat: Chat, stored: StoredMessage) -> HttpResponse:
    """Stored raw through the pipeline (one INSERT); the worker makes the message."""
    body = stored.model_dump_json().encode()
    identity = get_kind(KIND).identify(chat.channel, body)
    event, created = accept(chat.channel, identity, body)
    return chat.json(202, {"event": event.code, "echo_id": stored.echo_id, "duplicate": not created})


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


CONTACTS_PER_MINUTE = 5


@chat_view(("POST",), limit=("contact", lambda: CONTACTS_PER_MINUTE))
def contact(chat: Chat) -> HttpResponse:
    contact_id = visitors.contact_id(chat.channel, chat.me)
    if contact_id is None:
        return chat.error(409, "no_conversation", "Write a message first")
    if "phone" in chat.data and "email" not in chat.data:  # a number instead, to be called back
        number = offline.leave_phone(chat.channel, contact_id, chat.data.get("phone"))
        if number is None:
            return chat.error(422, "invalid_phone", "phone is not a phone number")
        return chat.json(200, {"phone": number})
    address = offline.leave_email(chat.channel, contact_id, chat.data.get("email"))
    if address is None:
        return chat.error(422, "invalid_email", "email is not an email address")
    return chat.json(200, {"email": address})


PAGES_PER_MINUTE = 30


@chat_view(("POST",), limit=("page", lambda: PAGES_PER_MINUTE))
def page(chat: Chat) -> HttpResponse:
    """Where the visitor is: kept per visitor (updated in place), shown in the sidebar."""
    from adesso.channels.webchat.models import VisitorPage

    url = chat.data.get("url")
    if not isinstance(url, str) or len(url) > 2000 or _origin_of(url) != chat.origin.lower().rstrip("/"):
        return chat.error(422, "invalid", "url is the address of the page showing the chat")
    VisitorPage.objects.update_or_create(
        channel=chat.channel,
        sender=chat.me.sender[:150],
        defaults={
            "organization_id": chat.channel.organization_id,
            "url": url,
            "title": " ".join(_text(chat.data.get("title"), 300).split()),
            "language": _text(chat.data.get("language"), 35).strip(),
            "updated_at": timezone.now(),
        },
    )
    return chat.json(200, {"url": url})


def _origin_of(url: str) -> str:
    """The page's origin, which must be the request's (an allowed one): agents never get
    a link to another site on a visitor's word."""
    try:
        return normalize_origin(urlsplit(url)._replace(path="", query="", fragment="").geturl())
    except ValueError:
        return ""


# What a visitor may send: images and documents (files.ALLOWED without sound or video).
VISITOR_TYPES = {t for t in ALLOWED.values() if t.startswith(("image/", "application/", "text/"))}
REFUSED_STATUS = {"attachment_too_large": 413, "attachment_type": 415}


@chat_view(("POST",), limit=("visitor", visitors.visitor_limit), json_body=False)
def upload(chat: Chat) -> HttpResponse:
    """One file from the visitor (multipart: `file`, `echo_id`, `text`?): its size and type
    (by name and first bytes, as an agent's) checked before anything is stored."""
    uploads = chat.request.FILES.getlist("file")
    if len(uploads) != 1:
        return chat.error(422, "invalid", "Send one file as `file`")
    item = uploads[0]
    try:
        check_size(item.name or "", item.size or 0)
        checked = check_file(item.name or "", item.read())
        if checked.content_type not in VISITOR_TYPES:
            raise ActionError(f"{checked.filename}: send an image or a document", "attachment_type")
    except ActionError as exc:
        return chat.error(REFUSED_STATUS.get(exc.code, 422), exc.code, exc.message)
    text = chat.request.POST.get("text", "")
    if len(text) > TEXT_LIMIT:
        return chat.error(422, "invalid", f"text is over {TEXT_LIMIT} characters")
    try:
        stored = StoredMessage(
            visitor=chat.me.visitor,
            identifier=chat.me.identifier,
            echo_id=_text(chat.request.POST.get("echo_id"), 100),
            text=text.strip(),
            files=[
                StoredFile(
                    filename=checked.filename,
                    content_type=checked.content_type,
                    data=base64.b64encode(checked.content).decode(),
                )
            ],
            sent_at=timezone.now(),
        )
    except ValidationError as exc:
        return _invalid(chat, exc)
    return _accept(chat, stored)


def download(request: HttpRequest, channel_code: str, signed: str) -> HttpResponse | FileResponse:
    """A file of a visitor's conversation by its signed link (`visitors.file_url`): an
    <img> or a link of the host page sends no token and no Origin. Never run: sandboxed,
    not sniffed; documents are downloaded."""
    from adesso.conversations.models import Attachment

    channel = find_channel(KIND, channel_code)
    code = visitors.file_from_link(channel, signed) if channel is not None and channel.is_enabled else None
    item = (
        Attachment.objects.filter(
            code=code,
            organization_id=channel.organization_id,
            message__channel_id=channel.pk,
            message__internal=False,
        ).first()
        if code and channel is not None
        else None
    )
    if item is None:
        return _error(404, "not_found", "No such file (or the link is old: reopen the chat)")
    inline = item.content_type.startswith("image/")
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=not inline,
        filename=item.filename,
        content_type=item.content_type if inline else "application/octet-stream",
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Cache-Control"] = "private, max-age=3600"
    return response


TRANSCRIPTS_PER_MINUTE = 5


@chat_view(("POST",), limit=("transcript", lambda: TRANSCRIPTS_PER_MINUTE))
def transcript(chat: Chat) -> HttpResponse:
    """Mail the visitor the transcript of their latest conversation: to `email` when they
    type one (kept as where answers go, as /contact does), else to the address their
    contact has (one left before, or an identified customer's)."""
    from adesso.channels.webchat.transcript import latest_conversation, mail_transcript

    contact_id = visitors.contact_id(chat.channel, chat.me)
    conversation = latest_conversation(chat.channel, contact_id) if contact_id is not None else None
    if contact_id is None or conversation is None:
        return chat.error(409, "no_conversation", "Write a message first")
    raw = chat.data.get("email")
    if raw:
        address = offline.leave_email(chat.channel, contact_id, raw)
        if address is None:
            return chat.error(422, "invalid_email", "email is not an email address")
    else:
        address = offline.contact_email(conversation)
        if not address:
            return chat.error(422, "no_email", "Give the email address the transcript goes to")
    language = _text(chat.data.get("language"), 2).lower() or conversation.language
    try:
        mail_transcript(chat.channel, conversation, address, language)
    except Exception:  # the mail server refused or is down: say so, the visitor may retry
        log.exception("web chat transcript of %s could not be mailed", conversation.code)
        return chat.error(502, "not_sent", "The transcript could not be sent: try again later")
    return chat.json(200, {"email": address})
