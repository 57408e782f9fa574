"""Telling the agents' open pages that something changed.

With REDIS_URL, actions publish to the Redis channel layer, which reaches every
websocket process. With the default in-memory layer nothing is published here:
the websocket process tails the event table itself (adesso.realtime.relay), so
HTTP workers, the task worker and the timers reach the pages all the same.
"""

import asyncio
import atexit
import concurrent.futures
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer

log = logging.getLogger(__name__)

# Seconds a process about to exit waits for its last publishes.
FLUSH_TIMEOUT = 5.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_pending: set[concurrent.futures.Future[Any]] = set()


def org_group(organization_id: int) -> str:
    return f"org.{organization_id}"


def conversation_group(organization_id: int, code: str) -> str:
    """The pages that show one conversation (presence: who else is there)."""
    return f"conv.{organization_id}.{code}"


def publish(organization_id: int, payload: dict[str, Any]) -> None:
    """Send `payload` to every agent page of the organisation. Never raises.

    The send is handed to an event loop and not waited for: the action that
    publishes (an HTTP request, usually) does not pay for the layer's round
    trip. A process that exits first sends what is still pending (see _flush).
    """
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        return  # the relay in the websocket process reads the event instead
    try:
        coroutine = layer.group_send(org_group(organization_id), {"type": "adesso.event", "payload": payload})
        # One long-lived loop per process, rather than async_to_sync's new thread,
        # event loop and Redis connection per call.
        _submit(coroutine, _background_loop())
    except Exception:  # a live update must never break the action that caused it
        log.exception("realtime publish failed")


def _submit(coroutine: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop) -> None:
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_done)


def _done(future: concurrent.futures.Future[Any]) -> None:
    with _lock:
        _pending.discard(future)
    if not future.cancelled() and future.exception() is not None:
        log.error("realtime publish failed", exc_info=future.exception())


def _background_loop() -> asyncio.AbstractEventLoop:
    """This process's publishing loop, started on first use (and again after a fork)."""
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="adesso-publish", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
            _pending.clear()
        return _loop


@atexit.register
def _flush(timeout: float = FLUSH_TIMEOUT) -> None:
    """Wait for the publishes still in flight, so a command that publishes and exits loses nothing."""
    with _lock:
        pending = list(_pending)
    if pending:
        concurrent.futures.wait(pending, timeout=timeout)
