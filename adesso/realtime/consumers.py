"""The websocket each agent page keeps open to hear about changes."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer

from adesso.realtime import relay
from adesso.realtime.publish import org_group


class AgentConsumer(AsyncJsonWebsocketConsumer):
    """Joins the agent's organisation group; forwards events as JSON.

    Payloads carry only codes and kinds, never customer data: the page fetches
    what it shows through the normal, access-checked views.
    """

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if isinstance(self.channel_layer, InMemoryChannelLayer):
            relay.ensure_running()
        self.group = org_group(user.organization_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def adesso_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])
