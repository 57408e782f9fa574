"""SLA state changes: default policies, and the timer's warnings, breaches and escalations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from adesso.accounts.models import Organization, Role, User
from adesso.sla.clock import STAGES
from adesso.sla.engine import reached_stages, refresh
from adesso.sla.models import SlaPolicy

# Warnings to the team's supervisors from this stage on (0.9 of the target).
SUPERVISOR_STAGE = STAGES.index(0.9)
RECHECK = dt.timedelta(seconds=60)


def do_create_default_policy(org: Organization) -> SlaPolicy:
    """A human answer within 60 minutes, first and next, 24/7, on every channel."""
    return SlaPolicy.objects.create(
        organization=org, name="60 min, 24/7", position=1000,
        first_response_minutes=60, next_response_minutes=60,
    )


def _supervisors(conversation: Any) -> list[User]:
    qs = User.objects.filter(
        organization_id=conversation.organization_id, is_active=True,
        role__in=[Role.SUPERVISOR, Role.ADMIN],
    )
    if conversation.team_id:
        # The team's own supervisors (set by admins), else its members who supervise.
        chosen = list(qs.filter(teammembership__team_id=conversation.team_id, teammembership__is_supervisor=True))
        in_team = chosen or list(qs.filter(teams=conversation.team_id))
        if in_team:
            return in_team
    return list(qs)


def do_check_sla(now: dt.datetime | None = None, limit: int = 500) -> int:
    """One timer tick: look only at conversations whose `sla_check_at` is due.

    The due rows are claimed and handled in one transaction, a batch at a time:
    locked with SKIP LOCKED on PostgreSQL, so several timer processes share a
    burst without warning twice (SQLite's write lock serialises them anyway);
    written back with one UPDATE and one INSERT of events per batch. Returns
    how many conversations were handled.
    """
    from adesso.conversations.events import notify_after_commit
    from adesso.conversations.models import Conversation, ConversationEvent

    now = now or timezone.now()
    with transaction.atomic():
        rows = (
            Conversation.objects.filter(sla_check_at__lte=now)
            .select_related("channel", "contact", "assignee", "sla_policy")
            .order_by("sla_check_at")
        )
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        batch = list(rows[:limit])
        if not batch:
            return 0
        supervisors: dict[tuple[int, int | None], list[str]] = {}
        fields: set[str] = {"sla_state", "sla_check_at"}
        events: list[ConversationEvent] = []
        for conversation in batch:
            changed, happened = _due(conversation, now, supervisors)
            fields.update(changed)
            events += [
                ConversationEvent(organization_id=conversation.organization_id, conversation=conversation,
                                  kind=kind, data=data or {}, created_at=now)
                for kind, data in happened
            ]
        Conversation.objects.bulk_update(batch, sorted(fields), batch_size=limit)
        if events:
            ConversationEvent.objects.bulk_create(events, batch_size=limit)
            from adesso.notifications.actions import notify_for_events

            notify_for_events(events)
            for event in events:
                notify_after_commit(event.conversation, event.kind)
    return len(batch)


def _due(
    conversation: Any, now: dt.datetime, cache: dict[tuple[int, int | None], list[str]]
) -> tuple[list[str], list[tuple[str, dict[str, Any] | None]]]:
    """Warnings, breach and escalation for one due conversation, and its next check.
    Sets the fields on the instance; returns their names and the events."""
    from adesso.conversations.models import EventKind, Priority

    events: list[tuple[str, dict[str, Any] | None]] = []
    fields = ["sla_state"]

    def supervisor_codes() -> list[str]:
        # Read once per organisation and team in a batch.
        key = (conversation.organization_id, conversation.team_id)
        if key not in cache:
            cache[key] = [u.code for u in _supervisors(conversation)]
        return cache[key]

    for _name, kind, stage in reached_stages(conversation, now):
        share = STAGES[stage]
        notify = [conversation.assignee.code] if conversation.assignee else []
        if share >= 1.0:
            policy = conversation.sla_policy
            data: dict[str, Any] = {"clock": kind, "notify": notify}
            if not conversation.sla_breached:
                conversation.sla_breached = True
                fields.append("sla_breached")
            if policy and policy.escalate_notify_supervisors:
                data["notify"] = sorted({*notify, *supervisor_codes()})
            if policy and policy.escalate_raise_priority and conversation.priority < Priority.URGENT:
                data["priority"] = {"from": conversation.priority, "to": conversation.priority + 1}
                conversation.priority += 1
                fields.append("priority")
            if policy and policy.escalate_to_team_id and conversation.team_id != policy.escalate_to_team_id:
                data["team"] = {"from": conversation.team_id, "to": policy.escalate_to_team_id}
                conversation.team_id = policy.escalate_to_team_id
                fields.append("team")
            events.append((EventKind.SLA_BREACHED, data))
        else:
            if stage >= SUPERVISOR_STAGE:
                notify = sorted({*notify, *supervisor_codes()})
            events.append((EventKind.SLA_WARNING, {"clock": kind, "percent": round(share * 100),
                                                   "notify": notify}))
    fields += refresh(conversation, now)
    if conversation.sla_check_at is not None and conversation.sla_check_at <= now:
        # Nothing further is due yet by the clocks: look again in a minute, not every tick.
        conversation.sla_check_at = now + RECHECK
    return fields, events
