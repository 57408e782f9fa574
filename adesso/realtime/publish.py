"""Telling the agents' open pages that something changed.

Publishing goes through the Channels layer: in-memory on a laptop (one web
process), Redis when REDIS_URL is set (many processes and machines).
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def org_group(organization_id: int) -> str:
    return f"org.{organization_id}"


def publish(organization_id: int, payload: dict[str, Any]) -> None:
    """Send `payload` to every agent page of the organisation. Never raises."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            org_group(organization_id), {"type": "adesso.event", "payload": payload}
        )
    except Exception:  # a live update must never break the action that caused it
        log.exception("realtime publish failed")
