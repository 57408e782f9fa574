"""The websocket each agent page keeps open to hear about changes, and to tell the
agents who have the same conversation open that they are there (collision)."""

import re
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer

from adesso.lib.codes import new_code
from adesso.realtime import relay
from adesso.realtime.publish import conversation_group, org_group

CODE = re.compile(r"^[a-z0-9]{1,16}$")
# A page says "typing" at most this often (the page throttles too).
TYPING_EVERY = 1.5


class AgentConsumer(AsyncJsonWebsocketConsumer):
    """Joins the agent's organisation group; forwards events as JSON.

    Payloads carry only codes and kinds, never customer data: the page fetches
    what it shows through the normal, access-checked views.

    Presence travels the same channel layer: a conversation page sends
    `{"watch": code}` (again every 30 s as a heartbeat) and `{"typing": true}`;
    the socket joins that conversation's group and tells the others there
    `{"presence": {"conversation", "tab", "agent", "name", "state"}}` with state
    viewing, typing or left. Nothing is stored: with the in-memory layer
    (the single `live` process) the group lives in that process, with Redis it
    spans every websocket process. A newcomer's first "viewing" asks those
    already there to announce themselves; pages forget a tab not heard of for a
    while, so a process that dies leaves no ghost behind.
    """

    group: str | None = None
    watching: str | None = None  # the conversation code this page shows
    tab: str = ""
    typed_at = 0.0

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        session = self.scope.get("session")
        if session is not None and await database_sync_to_async(session.get)("adesso_twofactor"):
            # Password given, second step not done (adesso/twofactor/middleware.py).
            await self.close(code=4401)
            return
        if isinstance(self.channel_layer, InMemoryChannelLayer):
            relay.ensure_running()
        self.tab = new_code(10)
        self.group = org_group(user.organization_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._leave()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        if "watch" in content:
            await self._watch(content["watch"])
        elif content.get("typing") is True and self.watching:
            now = time.monotonic()
            if now - self.typed_at >= TYPING_EVERY:
                self.typed_at = now
                await self._announce("typing")

    async def _watch(self, code: object) -> None:
        if code == self.watching and code is not None:
            await self._announce("viewing")  # the heartbeat
            return
        await self._leave()
        if not isinstance(code, str) or not CODE.match(code) or not await self._may_see(code):
            return
        self.watching = code
        await self.channel_layer.group_add(self._conversation_group(), self.channel_name)
        await self._announce("viewing", hello=True)

    async def _leave(self) -> None:
        if self.watching:
            await self._announce("left")
            await self.channel_layer.group_discard(self._conversation_group(), self.channel_name)
            self.watching = None

    @database_sync_to_async
    def _may_see(self, code: str) -> bool:
        from adesso.conversations.access import conversations_for

        return conversations_for(self.scope["user"]).filter(code=code).exists()

    def _conversation_group(self) -> str:
        assert self.watching is not None
        return conversation_group(self.scope["user"].organization_id, self.watching)

    async def _announce(self, state: str, hello: bool = False) -> None:
        user = self.scope["user"]
        presence = {
            "conversation": self.watching,
            "tab": self.tab,
            "agent": user.code,
            "name": user.display_name,
            "state": state,
        }
        await self.channel_layer.group_send(
            self._conversation_group(), {"type": "adesso.presence", "presence": presence, "hello": hello}
        )

    async def adesso_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])

    async def adesso_events(self, event: dict[str, Any]) -> None:
        """Several events at once (the relay's look at the event table): one frame each,
        as the page reads them."""
        for payload in event["payloads"]:
            await self.send_json(payload)

    async def adesso_presence(self, event: dict[str, Any]) -> None:
        presence = event["presence"]
        if presence["agent"] == self.scope["user"].code or presence["conversation"] != self.watching:
            return  # one's own tabs, or a message that crossed a change of page
        await self.send_json({"presence": presence})
        if event.get("hello"):
            await self._announce("viewing")
