"""Turning loaded rows into API dicts without touching the database."""

from typing import Any

from django.utils import timezone

from adesso.accounts.models import Team, User
from adesso.channels import registry
from adesso.channels.models import Channel
from adesso.contacts.models import Contact, ContactIdentity
from adesso.contacts.queries import identity_view
from adesso.conversations.models import Conversation, ConversationEvent, Message


def agent(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "code": user.code,
        "name": user.display_name,
        "email": user.email,
        "role": user.role,
        "language": user.language,
        "presence": user.presence,
    }


def team(t: Team | None) -> dict[str, Any] | None:
    return None if t is None else {"code": t.code, "name": t.name}


def channel(c: Channel) -> dict[str, Any]:
    return {
        "code": c.code,
        "kind": c.kind,
        "name": c.name,
        "is_enabled": c.is_enabled,
        "disabled_reason": c.disabled_reason,
        "inbound_url": registry.inbound_url(c),
        "webhook_urls": registry.webhook_urls(c),
    }


def contact_summary(c: Contact) -> dict[str, Any]:
    return {"code": c.code, "name": c.display_name, "email": c.email, "phone": c.phone, "tier": c.tier}


def _identity(i: ContactIdentity) -> dict[str, Any]:
    view = identity_view(i, {})
    return {
        "kind": i.kind, "value": i.value, "label": view.label, "display": view.value,
        "channel": view.channel or None, "unreachable_at": i.unreachable_at, "unreachable_reason": i.unreachable_reason,
    }


def contact(c: Contact) -> dict[str, Any]:
    """Needs `identities` prefetched and `merged_into` selected."""
    return {
        **contact_summary(c),
        "language": c.language,
        "notes": c.notes,
        "merged_into": c.merged_into.code if c.merged_into_id and c.merged_into else None,
        "created_at": c.created_at,
        "identities": [_identity(i) for i in c.identities.all()],
    }


def conversation(c: Conversation) -> dict[str, Any]:
    """Needs channel, contact, assignee and team selected."""
    return {
        "code": c.code,
        "status": c.status,
        "priority": c.priority,
        "channel": channel(c.channel),
        "contact": contact_summary(c.contact),
        "assignee": agent(c.assignee),
        "team": team(c.team),
        "language": c.language,
        "subject": c.subject,
        "last_message_preview": c.last_message_preview,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "waiting_since": c.waiting_since,
        "waiting_seconds": c.waiting_seconds(timezone.now()),
        "last_customer_message_at": c.last_customer_message_at,
        "first_response_at": c.first_response_at,
        "snoozed_until": c.snoozed_until,
        "resolved_at": c.resolved_at,
        "first_response_due_at": c.first_response_due_at,
        "next_response_due_at": c.next_response_due_at,
        "resolution_due_at": c.resolution_due_at,
        "sla_breached": c.sla_breached,
        "queued_at": c.queued_at,
        "skill": c.skill,
        "promise_at": c.promise_at,
        "tags": list(c.tag_names),
        "survey": survey(c),
    }


def survey(c: Conversation) -> dict[str, Any] | None:
    """The conversation's latest survey (prefetch `surveys` for a list: no query per row)."""
    rows = sorted(c.surveys.all(), key=lambda s: (s.sent_at, s.pk))
    if not rows:
        return None
    s = rows[-1]
    return {"kind": s.kind, "score": s.score, "reason": s.reason or None, "state": s.shown_state()}


def message(m: Message, conversation_code: str, channel_obj: Channel, sender: str | None = None) -> dict[str, Any]:
    """Needs author selected and attachments prefetched. `sender`: a customer message's name."""
    return {
        "code": m.code,
        "conversation": conversation_code,
        "channel": channel_obj.code,
        "channel_kind": channel_obj.kind,
        "direction": m.direction,
        "internal": m.internal,
        "auto": m.auto,
        "author": m.author.display_name if m.author else None,
        "sender": sender,
        "text": m.text,
        "html": m.html,
        "created_at": m.created_at,
        "sent_at": m.sent_at,
        "delivery_status": m.delivery_status,
        "attachments": [
            {
                "code": a.code,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": f"/attachments/{a.code}",
            }
            for a in m.attachments.all()
        ],
    }


def event(e: ConversationEvent) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "actor": e.actor.display_name if e.actor else None,
        "data": e.data,
        "created_at": e.created_at,
    }
