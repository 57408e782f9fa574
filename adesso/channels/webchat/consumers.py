"""The visitor's websocket: /chat/ws/<channel code>/ (routed in adesso/asgi.py, outside
the agents' same-host origin check: this one checks the channel's allowed_origins).

The widget sends `{"token": ..., "after": <cursor>}` first (a token in the URL would end
up in access logs). The socket then sends `{"messages": [...], "cursor": n}` for what
came after the cursor (the catch-up after a reconnect: by id, so never a duplicate) and
again whenever something new arrives; `{"typing": true}` while an agent writes. The
widget sends `{"typing": true}` while the visitor writes (shown to the agents who have
the conversation open).

New messages are found by asking the REST source: at once when `send` pushes through a
shared channel layer (Redis), and every POLL seconds in any case (the in-memory layer of
the single `live` process has no pushes from other processes). Agents' typing comes
from the conversation's presence group, which agents' pages and this socket share.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from adesso.channels.webchat import offline, visitors
from adesso.channels.webchat.adapter import visitor_group

POLL = 0.5
# How often an open window tells the cache it is there (offline.py's away rule).
SEEN_EVERY = 10.0
TYPING_EVERY = 1.5


class VisitorConsumer(AsyncJsonWebsocketConsumer):
    channel_obj: Any = None
    visitor: visitors.Visitor | None = None
    cursor = 0
    groups_joined: list[str]
    poller: asyncio.Task[None] | None = None
    typed_at = 0.0
    seen_at = -SEEN_EVERY
    contact: int | None = None
    conversation_known = False

    async def connect(self) -> None:
        self.groups_joined = []
        code = self.scope["url_route"]["kwargs"]["channel_code"]
        channel = await database_sync_to_async(_channel)(code)
        headers = dict(self.scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1")
        if channel is None or not visitors.origin_allowed(channel, origin):
            await self.close(code=4403)
            return
        self.channel_obj = channel
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.poller is not None:
            self.poller.cancel()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or self.channel_obj is None:
            return
        if self.visitor is None:
            visitor = visitors.read_token(self.channel_obj.code, str(content.get("token") or ""))
            if visitor is None:
                await self.close(code=4401)
                return
            self.visitor = visitor
            after = content.get("after")
            self.cursor = after if isinstance(after, int) and after > 0 else 0
            await self._join(visitor_group(self.channel_obj.code, visitor.sender))
            await self._catch_up()
            self.poller = asyncio.get_running_loop().create_task(self._poll())
        elif content.get("typing") is True:
            now = time.monotonic()
            if now - self.typed_at >= TYPING_EVERY and (conversation := await self._conversation()):
                self.typed_at = now
                from adesso.realtime.publish import conversation_group

                # Shown on the agents' presence bar as "<name> is typing…".
                presence = {
                    "conversation": conversation,
                    "tab": f"visitor-{self.channel_name[-12:]}",
                    "agent": "visitor",
                    "name": await database_sync_to_async(self._visitor_name)(),
                    "state": "typing",
                }
                await self.channel_layer.group_send(
                    conversation_group(self.channel_obj.organization_id, conversation),
                    {"type": "adesso.presence", "presence": presence},
                )

    def _visitor_name(self) -> str:
        """The contact's name, else the identifier the company gave, else "Web chat"."""
        from adesso.contacts.models import Contact

        assert self.visitor is not None
        contact = visitors.contact_id(self.channel_obj, self.visitor)
        name = Contact.objects.filter(pk=contact).values_list("name", flat=True).first() if contact else ""
        return name or self.visitor.identifier or "Web chat"

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL)
            with contextlib.suppress(Exception):  # a database hiccup: the next round tries again
                await self._catch_up()

    async def _catch_up(self) -> None:
        """One indexed query when nothing is new (the contact is looked up until known,
        the conversation again only when something arrived: it may be a new one)."""
        assert self.visitor is not None
        # The window is open: replies are not mailed (offline.py's away rule).
        now = time.monotonic()
        if now - self.seen_at >= min(SEEN_EVERY, offline.away_seconds() / 2):
            self.seen_at = now
            await database_sync_to_async(offline.mark_seen)(self.channel_obj.pk, self.visitor.sender)
        if self.contact is None:
            self.contact = await database_sync_to_async(visitors.contact_id)(self.channel_obj, self.visitor)
            if self.contact is None:
                return  # nothing written yet
        found = await database_sync_to_async(visitors.messages_after)(
            self.channel_obj, self.visitor, self.cursor, self.contact
        )
        if not found and self.conversation_known:
            return
        if found:
            self.cursor = found[-1]["id"]
            await self.send_json({"messages": found, "cursor": self.cursor})
        # The open conversation's presence group: agents' typing reaches the visitor.
        conversation = await self._conversation()
        self.conversation_known = conversation is not None
        if conversation:
            from adesso.realtime.publish import conversation_group

            await self._join(conversation_group(self.channel_obj.organization_id, conversation))

    @database_sync_to_async
    def _conversation(self) -> str | None:
        from adesso.conversations.models import Conversation

        assert self.visitor is not None
        contact = visitors.contact_id(self.channel_obj, self.visitor)
        if contact is None:
            return None
        return (
            Conversation.objects.filter(
                organization_id=self.channel_obj.organization_id, channel_id=self.channel_obj.pk, contact_id=contact
            )
            .order_by("-created_at")
            .values_list("code", flat=True)
            .first()
        )

    async def webchat_push(self, event: dict[str, Any]) -> None:
        payload = event.get("payload") or {}
        if payload.get("typing"):
            await self.send_json({"typing": True})
        else:
            await self._catch_up()

    async def adesso_presence(self, event: dict[str, Any]) -> None:
        presence = event.get("presence") or {}
        if presence.get("state") == "typing" and presence.get("agent") != "visitor":
            await self.send_json({"typing": True})

    async def adesso_event(self, event: dict[str, Any]) -> None:
        return None


def _channel(code: str) -> Any:
    from adesso.channels.pipeline import find_channel

    channel = find_channel("webchat", code)
    return channel if channel is not None and channel.is_enabled else None
