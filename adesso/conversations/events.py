"""Recording what happened to a conversation, and telling live pages after commit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from adesso.conversations.models import Conversation, ConversationEvent
from adesso.lib import batch, rowsql
from adesso.realtime.publish import publish

if TYPE_CHECKING:
    from adesso.accounts.models import User


def record_event(
    conversation: Conversation, kind: str, actor: User | None = None,
    data: dict[str, Any] | None = None,
) -> ConversationEvent:
    """Append an event and, once the transaction commits, notify the organisation's pages."""
    return record_events(conversation, [(kind, data)], actor)[0]


def record_events(
    conversation: Conversation, events: list[tuple[str, dict[str, Any] | None]],
    actor: User | None = None,
) -> list[ConversationEvent]:
    """Append several events of one action in one INSERT, in order, and notify after commit.
    In a batch of the inbound pipeline they are inserted with the batch's others
    (adesso.lib.batch): their primary keys are not set yet when this returns."""
    rows = [
        rowsql.new(
            ConversationEvent, organization_id=conversation.organization_id, conversation=conversation,
            kind=kind, actor=actor, data=data or {},
        )
        for kind, data in events
    ]
    if not all([batch.insert_later(row) for row in rows]):
        rows = ConversationEvent.objects.bulk_create(rows)
    from adesso.notifications.actions import notify_for_events

    notify_for_events(rows)
    for kind, _ in events:
        notify_after_commit(conversation, kind)
    return rows


def notify_after_commit(conversation: Conversation, kind: str) -> None:
    payload = {"conversation": conversation.code, "kind": kind, "status": conversation.status}
    org_id = conversation.organization_id
    transaction.on_commit(lambda: publish(org_id, payload))
