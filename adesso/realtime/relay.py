"""Live updates across processes without a broker: tail the event table.

Every change is already an append-only ConversationEvent row. A websocket
process with the in-memory channel layer runs one relay task that reads new
rows every `INTERVAL` seconds and hands them to its own sockets. So the HTTP
processes (WSGI, any number), the task worker and the timers need no channel
layer to reach the agents' pages, on SQLite as on PostgreSQL. With REDIS_URL,
actions publish straight to the Redis layer and no relay runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from adesso.realtime.publish import org_group

log = logging.getLogger(__name__)
# A look is one indexed query (a few per second cost nothing next to the pages'
# requests); it is what a live update waits for at most, beyond its commit.
INTERVAL = 0.2
# Ids are handed out before commit: a later id can be visible before an earlier
# one. Re-reading a window below the highest id seen, and remembering what was
# sent, catches the late ones without sending anything twice.
WINDOW = 200
SEEN = 5000
# Rows read in one look; a full look is followed by the next at once, not after INTERVAL.
LOOK = 1000

_task: asyncio.Task[None] | None = None


def _rows(after: int) -> list[tuple[Any, ...]]:
    from adesso.conversations.models import ConversationEvent

    return list(
        ConversationEvent.objects.filter(pk__gt=after)
        .order_by("pk")
        .values_list("pk", "organization_id", "conversation__code", "kind", "conversation__status")[:LOOK]
    )


def _highest() -> int:
    from adesso.conversations.models import ConversationEvent

    last = ConversationEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


async def _run() -> None:
    layer = get_channel_layer()
    assert layer is not None
    top = start = await sync_to_async(_highest)()
    seen: deque[int] = deque(maxlen=SEEN)
    seen_set: set[int] = set()
    while True:
        try:
            # One channel-layer message per organisation and look, carrying its events in
            # order: at 300 messages/s a look finds hundreds, and one message each
            # overflowed the in-memory layer's per-socket capacity (100: the rest were
            # dropped) and cost the live process a task and a queue round each.
            batches: dict[int, list[dict[str, Any]]] = {}
            rows = await sync_to_async(_rows)(max(start, top - WINDOW))
            for pk, org_id, code, kind, status in rows:
                if pk in seen_set:
                    continue
                if len(seen) == seen.maxlen:
                    seen_set.discard(seen[0])
                seen.append(pk)
                seen_set.add(pk)
                top = max(top, pk)
                batches.setdefault(org_id, []).append({"conversation": code, "kind": kind, "status": status})
            for org_id, payloads in batches.items():
                await layer.group_send(org_group(org_id), {"type": "adesso.events", "payloads": payloads})
        except Exception:  # the relay must outlive a database hiccup
            log.exception("live update relay failed; retrying")
            rows = []
        await asyncio.sleep(INTERVAL if len(rows) < LOOK else 0)


def ensure_running() -> None:
    """Start this process's relay once (call from the event loop)."""
    global _task
    if _task is None or _task.done():
        _task = asyncio.get_running_loop().create_task(_run())
