"""Visitors of a web chat: their signed tokens, the checks every request passes (origin,
rate limits) and the messages they may read. Shared by the REST views and the websocket."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.core.cache import caches

from adesso.channels.webchat.adapter import WebchatChannel, sender_id
from adesso.lib.codes import new_code

if TYPE_CHECKING:
    from adesso.channels.models import Channel

SALT = "adesso.webchat.visitor"
FILE_SALT = "adesso.webchat.file"
FILE_LINK_SECONDS = 24 * 3600
# Per minute: messages one visitor may send, requests one address may make.
VISITOR_MESSAGES_PER_MINUTE = 20
IP_REQUESTS_PER_MINUTE = 120
PAGE = 200


@dataclass(frozen=True)
class Visitor:
    channel_code: str
    visitor: str  # v_<random>: this browser
    identifier: str = ""  # the company's id for a customer it identified (hash checked)

    @property
    def sender(self) -> str:
        return sender_id(self.visitor, self.identifier)

    def token(self) -> str:
        """Signed with the server's key (SECRET_KEY, HMAC): kept in the browser's localStorage."""
        data = {"c": self.channel_code, "v": self.visitor}
        if self.identifier:
            data["i"] = self.identifier
        return signing.Signer(salt=SALT).sign_object(data, compress=True)


def new_visitor(channel_code: str, identifier: str = "") -> Visitor:
    return Visitor(channel_code, "v_" + new_code(16), identifier)


def read_token(channel_code: str, token: str) -> Visitor | None:
    """The visitor a token names, if this server signed it for this channel."""
    if not token or len(token) > 1000:
        return None
    try:
        data = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("c") != channel_code or not isinstance(data.get("v"), str):
        return None
    identifier = data.get("i", "")
    return Visitor(channel_code, data["v"], identifier if isinstance(identifier, str) else "")


def file_url(channel: Channel, attachment_code: str) -> str:
    """The path of a file of the visitor's conversation, signed (an <img> or a link sends
    no bearer token), valid FILE_LINK_SECONDS: the list gives fresh ones at each read."""
    signed = signing.TimestampSigner(salt=FILE_SALT).sign(f"{channel.code}:{attachment_code}")
    return f"/chat/{channel.code}/files/{signed}"


def file_from_link(channel: Channel, signed: str) -> str | None:
    """The attachment code a link of `file_url` names, if it is ours, this channel's, fresh."""
    try:
        value = signing.TimestampSigner(salt=FILE_SALT).unsign(signed, max_age=FILE_LINK_SECONDS)
    except signing.BadSignature:
        return None
    code, sep, attachment = value.partition(":")
    return attachment if sep and code == channel.code and attachment else None


def origin_allowed(channel: Channel, origin: str) -> bool:
    allowed = channel.config.get("allowed_origins") or []
    return bool(origin) and origin.lower().rstrip("/") in allowed


def over_limit(key: str, limit: int) -> bool:
    """Fixed one-minute windows in the cache; True once `limit` is passed."""
    window = f"webchat:{key}:{int(time.time() // 60)}"
    if caches["shared"].add(window, 1, timeout=70):
        return limit < 1
    try:
        return caches["shared"].incr(window) > limit
    except ValueError:  # expired between add and incr
        caches["shared"].add(window, 1, timeout=70)
        return False


def visitor_limit() -> int:
    return int(getattr(settings, "ADESSO_WEBCHAT_VISITOR_MESSAGES_PER_MINUTE", VISITOR_MESSAGES_PER_MINUTE))


def ip_limit() -> int:
    return int(getattr(settings, "ADESSO_WEBCHAT_IP_REQUESTS_PER_MINUTE", IP_REQUESTS_PER_MINUTE))


def contact_id(channel: Channel, visitor: Visitor) -> int | None:
    from adesso.contacts.models import ContactIdentity

    return (
        ContactIdentity.objects.filter(
            organization_id=channel.organization_id, kind=WebchatChannel.identity_kind, value=visitor.sender
        )
        .values_list("contact_id", flat=True)
        .first()
    )


def messages_after(channel: Channel, visitor: Visitor, after: int, contact: int | None = None) -> list[dict[str, Any]]:
    """What the visitor's window shows after cursor `after` (a message id): their
    messages and the replies on this channel, never internal notes, oldest first.
    `contact`: the visitor's contact when the caller knows it (the socket remembers it)."""
    from adesso.conversations.models import Direction, Message

    if contact is None:
        contact = contact_id(channel, visitor)
    if contact is None:
        return []
    rows = list(
        Message.objects.filter(
            organization_id=channel.organization_id,
            channel_id=channel.pk,
            conversation__contact_id=contact,
            internal=False,
            pk__gt=after,
        )
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("pk")[:PAGE]
    )
    from adesso.channels.webchat.feedback import survey_scales
    from adesso.channels.webchat.offline import offline_notes

    autos = [m.code for m in rows if m.auto]
    conversations = {m.conversation_id for m in rows}
    notes = offline_notes(channel.organization_id, conversations, autos)
    scales = survey_scales(channel.organization_id, conversations, autos)
    out = []
    prefix = f"{visitor.sender}:"
    for m in rows:
        mine = m.direction == Direction.INCOMING
        external = m.external_id or ""
        out.append(
            {
                "id": m.pk,
                "code": m.code,
                "from": "visitor" if mine else "agent",
                "text": m.text,
                "echo_id": external.removeprefix(prefix) if mine and external.startswith(prefix) else None,
                "auto": m.auto,
                "author": (m.author.display_name.split(" ")[0] if m.author is not None and not mine else ""),
                "created_at": m.created_at.isoformat(),
                # Nobody was online: when the answer will come, and the widget asks for an email.
                "offline": notes.get(m.code, ""),
                # A survey's question: its scale, for one button per score while it waits.
                "survey": scales.get(m.code),
                # Images the widget shows, documents it links (signed links: no token needed).
                "files": [
                    {"name": a.filename, "type": a.content_type, "size": a.size, "url": file_url(channel, a.code)}
                    for a in m.attachments.all()
                ],
            }
        )
    return out
