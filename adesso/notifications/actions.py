"""Notifications follow conversation events: whoever an event names gets told.

`notify_for_events` runs inside the action's transaction, so a notification
exists exactly when its event does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils import timezone

from adesso.accounts.models import User
from adesso.lib import batch
from adesso.notifications.models import Notification

if TYPE_CHECKING:
    from adesso.conversations.models import ConversationEvent

# survey_answered notifies only with a bad score (adesso.surveys puts the agent in "notify").
NOTIFYING = {"assigned", "transferred", "sla_warning", "sla_breached", "survey_answered"}


def _recipients(event: ConversationEvent) -> list[str]:
    data = event.data or {}
    if event.kind in ("assigned", "transferred"):
        return [data["to"]] if data.get("to") else []
    return list(data.get("notify") or [])


def notify_for_events(events: Iterable[ConversationEvent]) -> int:
    """Create the notifications these events call for (never to the one who acted)."""
    wanted = [(event, code) for event in events if event.kind in NOTIFYING for code in _recipients(event)]
    if not wanted:
        return 0
    ids = dict(User.objects.filter(code__in={code for _e, code in wanted}, is_active=True).values_list("code", "id"))
    chosen = [(event, ids[code]) for event, code in wanted if code in ids and ids[code] != event.actor_id]
    rows = [
        Notification(
            organization_id=event.organization_id, user_id=user_id, conversation_id=event.conversation_id,
            kind=event.kind, data={k: v for k, v in (event.data or {}).items() if k != "notify"},
            created_at=event.created_at,
        )
        for event, user_id in chosen
    ]
    if any(row.conversation_id is None for row in rows):
        # A conversation that a batch of the inbound pipeline inserts when it flushes
        # (adesso.lib.batch): its notifications are inserted after it, with it.
        for row, (event, _user_id) in zip(rows, chosen, strict=True):
            row.conversation = event.conversation
        if all([batch.insert_later(row) for row in rows]):
            return len(rows)
    Notification.objects.bulk_create(rows)
    return len(rows)


def do_mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read, or all of them."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
