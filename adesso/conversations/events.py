"""Recording what happened to a conversation, and telling live pages after commit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from adesso.conversations.models import Conversation, ConversationEvent
from adesso.realtime.publish import publish

if TYPE_CHECKING:
    from adesso.accounts.models import User


def record_event(
    conversation: Conversation, kind: str, actor: User | None = None,
    data: dict[str, Any] | None = None,
) -> ConversationEvent:
    """Append an event and, once the transaction commits, notify the organisation's pages."""
    event = ConversationEvent.objects.create(
        organization_id=conversation.organization_id, conversation=conversation, kind=kind,
        actor=actor, data=data or {},
    )
    notify_after_commit(conversation, kind)
    return event


def notify_after_commit(conversation: Conversation, kind: str) -> None:
    payload = {"conversation": conversation.code, "kind": kind, "status": conversation.status}
    org_id = conversation.organization_id
    transaction.on_commit(lambda: publish(org_id, payload))
