"""SLA state changes: default policies, and the timer's warnings, breaches and escalations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from adesso.accounts.models import Organization, Role, User
from adesso.sla.clock import STAGES
from adesso.sla.engine import reached_stages, refresh
from adesso.sla.models import SlaPolicy

# Warnings to the team's supervisors from this stage on (0.9 of the target).
SUPERVISOR_STAGE = STAGES.index(0.9)
LEASE = dt.timedelta(seconds=60)


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
        in_team = list(qs.filter(teams=conversation.team_id))
        if in_team:
            return in_team
    return list(qs)


def do_check_sla(now: dt.datetime | None = None, limit: int = 500) -> int:
    """One timer tick: look only at conversations whose `sla_check_at` is due.

    Each row is claimed with compare-and-set on `sla_check_at` (pushed a lease
    ahead), so several timer processes never warn twice. Returns how many
    conversations were handled.
    """
    from adesso.conversations.models import Conversation

    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(sla_check_at__lte=now)
        .order_by("sla_check_at").values_list("pk", "sla_check_at")[:limit]
    )
    handled = 0
    for pk, check_at in due:
        claimed = Conversation.objects.filter(pk=pk, sla_check_at=check_at).update(sla_check_at=now + LEASE)
        if claimed:
            _handle_due(pk, now)
            handled += 1
    return handled


@transaction.atomic
def _handle_due(pk: int, now: dt.datetime) -> None:
    from adesso.conversations.events import record_events
    from adesso.conversations.models import Conversation, EventKind, Priority

    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "contact", "assignee", "sla_policy")
        .get(pk=pk)
    )
    events: list[tuple[str, dict[str, Any] | None]] = []
    fields = ["sla_state"]
    supervisors: list[str] = []  # read once, when a stage first needs them

    def supervisor_codes() -> list[str]:
        if not supervisors:
            supervisors.extend(u.code for u in _supervisors(conversation))
        return supervisors

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
    conversation.save(update_fields=sorted(set(fields)))
    if events:
        record_events(conversation, events)
