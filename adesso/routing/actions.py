"""Routing actions: presence, capacity, and assigning conversations to agents.

`route` runs inside intake's transaction (a new conversation is born assigned or
queued); `do_assign_queued` hands queued conversations out as soon as an agent
frees up or comes online, and the timer loop runs it as a safety net.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.accounts.cached import org_settings
from adesso.accounts.models import Presence, PresenceChange, User
from adesso.conversations.events import record_event, record_events
from adesso.conversations.models import Conversation, EventKind, Status
from adesso.lib.errors import ActionError
from adesso.routing.engine import Candidate, candidates, choose, last_agent_id, queue

Events = list[tuple[str, dict[str, Any] | None]]


def auto_assign_enabled(organization_id: int) -> bool:
    return org_settings(organization_id).auto_assign


def route(
    conversation: Conversation, now: dt.datetime, pool: list[Candidate] | None = None
) -> tuple[list[str], Events]:
    """Assign the conversation to the right agent, or queue it. Sets the fields on the
    instance (the caller saves them) and returns their names and the events to record."""
    if pool is None:
        pool = candidates(conversation.organization_id, with_teams=conversation.team_id is not None)
    # Who helped this contact last matters only when someone has room.
    sticky = last_agent_id(conversation) if any(c.free for c in pool) else None
    pick = choose(conversation, pool, sticky)
    if pick is None:
        conversation.assignee_id = None
        if conversation.queued_at is None:
            conversation.queued_at = now
            return ["assignee", "queued_at"], [(EventKind.QUEUED, {})]
        return ["assignee"], []
    chosen, reason = pick
    if conversation.queued_at is not None and reason != "sticky":
        reason = "queue"
    if chosen.agent_id == conversation.assignee_id:
        # Back with the agent who had it (a reopened conversation): nothing changes hands.
        chosen.load += 1
        conversation.queued_at = None
        return ["queued_at"], []
    previous = conversation.assignee.code if conversation.assignee_id and conversation.assignee else None
    conversation.assignee_id = chosen.agent_id
    conversation.queued_at = None
    chosen.load += 1
    chosen.last_assigned_at = now
    User.objects.filter(pk=chosen.agent_id).update(last_assigned_at=now)
    data: dict[str, Any] = {"to": chosen.code, "reason": reason}
    if previous and previous != chosen.code:
        data["from"] = previous
    return ["assignee", "queued_at"], [(EventKind.ASSIGNED, data)]


def do_assign_queued(organization_id: int, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Give queued conversations to agents with room, VIP and loyal contacts first.
    Returns how many were assigned. Safe with several processes at once: rows are
    locked (PostgreSQL) or the database is (SQLite)."""
    now = now or timezone.now()
    with transaction.atomic():
        pool = candidates(organization_id)
        room = sum(max(0, c.capacity - c.load) for c in pool)
        if not room:
            return 0
        rows = queue(organization_id).select_related("contact")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        assigned = 0
        # Skills, teams and stickiness may pass some over: look a little further than the room.
        for conversation in rows[: min(limit, room * 4)]:
            if not any(c.free for c in pool):
                break
            fields, events = route(conversation, now, pool)
            if conversation.assignee_id is None:
                continue
            conversation.updated_at = now
            conversation.save(update_fields=[*fields, "updated_at"])
            record_events(conversation, events)
            assigned += 1
    return assigned


def assign_queued_after_commit(organization_id: int) -> None:
    """An agent may have room now: hand out the queue once this transaction commits."""
    transaction.on_commit(lambda: do_assign_queued(organization_id))


def do_assign_all_queued(now: dt.datetime | None = None) -> int:
    """The timer's safety net: every organisation with a queue and someone online."""
    orgs = (
        Conversation.objects.filter(queued_at__isnull=False, status=Status.OPEN)
        .values_list("organization_id", flat=True).distinct()
    )
    return sum(do_assign_queued(org_id, now) for org_id in list(orgs))


def do_set_presence(agent: User, presence: str) -> User:
    """Online agents receive conversations; going offline hands back the ones still
    waiting for an answer, so no customer waits for someone who is not there."""
    if presence not in Presence.values:
        raise ActionError(_("Presence must be online, away or offline."), "invalid_presence")
    now = timezone.now()
    with transaction.atomic():
        PresenceChange.objects.create(organization_id=agent.organization_id, user=agent, presence=presence, at=now)
        User.objects.filter(pk=agent.pk).update(presence=presence, presence_changed_at=now)
        agent.presence, agent.presence_changed_at = presence, now
        if presence == Presence.OFFLINE:
            waiting = Conversation.objects.filter(
                organization_id=agent.organization_id, assignee=agent, status=Status.OPEN,
                waiting_since__isnull=False,
            )
            for conversation in waiting:
                conversation.assignee = None
                conversation.queued_at = conversation.waiting_since
                conversation.updated_at = now
                conversation.save(update_fields=["assignee", "queued_at", "updated_at"])
                record_event(conversation, EventKind.ASSIGNED, None,
                             {"from": agent.code, "to": None, "reason": "agent_offline"})
        if presence != Presence.AWAY:
            assign_queued_after_commit(agent.organization_id)
    return agent


def do_release_conversations(agent: User, reason: str) -> int:
    """The agent leaves for good (deactivated): every conversation of theirs not yet
    resolved loses its assignee; open ones go back to the queue, pending and snoozed ones
    are routed again when the customer writes. Call after going offline, in a transaction."""
    now = timezone.now()
    count = 0
    held = Conversation.objects.filter(organization_id=agent.organization_id, assignee=agent).exclude(
        status=Status.RESOLVED)
    for conversation in held:
        conversation.assignee = None
        if conversation.status == Status.OPEN and conversation.queued_at is None:
            conversation.queued_at = conversation.waiting_since or now
        conversation.updated_at = now
        conversation.save(update_fields=["assignee", "queued_at", "updated_at"])
        record_event(conversation, EventKind.ASSIGNED, None, {"from": agent.code, "to": None, "reason": reason})
        count += 1
    assign_queued_after_commit(agent.organization_id)
    return count


def do_update_routing(
    actor: User, agent: User, *, capacity: int | None = None, languages: list[str] | None = None,
    skills: list[str] | None = None,
) -> User:
    """Supervisors set an agent's capacity, languages and skills."""
    if not actor.is_supervisor or actor.organization_id != agent.organization_id:
        raise ActionError(_("Only supervisors and admins can change routing settings."), "forbidden")
    fields = []
    if capacity is not None:
        if not 0 <= capacity <= 100:
            raise ActionError(_("Capacity must be between 0 and 100."), "invalid_capacity")
        agent.capacity = capacity
        fields.append("capacity")
    if languages is not None:
        codes = sorted({code.strip().lower() for code in languages if code.strip()})
        if any(len(code) > 8 for code in codes):
            raise ActionError(_("Languages are codes such as it or en."), "invalid_languages")
        agent.languages = codes
        fields.append("languages")
    if skills is not None:
        names = sorted({s.strip().lower() for s in skills if s.strip()})
        if any(len(s) > 40 for s in names):
            raise ActionError(_("A skill name has at most 40 characters."), "invalid_skills")
        agent.skills = names
        fields.append("skills")
    if fields:
        with transaction.atomic():
            agent.save(update_fields=fields)
            assign_queued_after_commit(agent.organization_id)
    return agent

