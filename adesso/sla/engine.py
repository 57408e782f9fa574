"""Applying SLA policies to conversations: which policy, which clocks, when due.

`refresh` is called by every conversation action after it changed the
conversation in memory and before it saves: it updates the SLA columns on the
instance and returns the names of those it changed, for `update_fields`.
Policies come from a per-organisation cache, so intake pays no query for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

from adesso.lib import batch
from adesso.lib.businesshours import Calendar
from adesso.sla.clock import Clock, current_stage, next_check_at
from adesso.sla.models import BusinessCalendar, SlaPolicy

if TYPE_CHECKING:
    from adesso.conversations.models import Conversation

SLA_FIELDS = (
    "sla_policy", "first_response_due_at", "next_response_due_at", "resolution_due_at",
    "sla_due_at", "sla_check_at", "sla_state",
)


@dataclass(frozen=True)
class Policy:
    """What the engine needs of an SlaPolicy, cacheable."""

    id: int
    channel_kinds: frozenset[str]
    priorities: frozenset[int]
    contact_tiers: frozenset[str]
    team_ids: frozenset[int]
    first_s: int
    next_s: int | None
    resolution_s: int | None
    calendar: Calendar | None

    def matches(self, channel_kind: str, priority: int, tier: str, team_id: int | None) -> bool:
        return (
            (not self.channel_kinds or channel_kind in self.channel_kinds)
            and (not self.priorities or priority in self.priorities)
            and (not self.contact_tiers or tier in self.contact_tiers)
            and (not self.team_ids or team_id in self.team_ids)
        )


def _cache_key(organization_id: int) -> str:
    return f"sla-policies:{organization_id}"


def policies(organization_id: int) -> list[Policy]:
    # Once per batch of the inbound pipeline, not once per message (adesso.lib.batch).
    return batch.memo(("sla.policies", organization_id), lambda: _policies(organization_id))


def _policies(organization_id: int) -> list[Policy]:
    found: list[Policy] | None = cache.get(_cache_key(organization_id))
    if found is None:
        rows = (
            SlaPolicy.objects.filter(organization_id=organization_id, is_active=True)
            .select_related("calendar").prefetch_related("teams")
        )
        found = [
            Policy(
                id=p.pk, channel_kinds=frozenset(p.channel_kinds), priorities=frozenset(p.priorities),
                contact_tiers=frozenset(p.contact_tiers),
                team_ids=frozenset(t.pk for t in p.teams.all()),
                first_s=p.first_response_minutes * 60,
                next_s=p.next_response_minutes * 60 if p.next_response_minutes else None,
                resolution_s=p.resolution_minutes * 60 if p.resolution_minutes else None,
                calendar=p.calendar.as_calendar() if p.calendar else None,
            )
            for p in rows
        ]
        cache.set(_cache_key(organization_id), found, 300)
    return found


def forget_policies(organization_id: int) -> None:
    cache.delete(_cache_key(organization_id))


def _on_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_policies(instance.organization_id)


for _model in (SlaPolicy, BusinessCalendar):
    post_save.connect(_on_change, sender=_model, dispatch_uid=f"sla-forget-save-{_model.__name__}")
    post_delete.connect(_on_change, sender=_model, dispatch_uid=f"sla-forget-delete-{_model.__name__}")
m2m_changed.connect(_on_change, sender=SlaPolicy.teams.through, dispatch_uid="sla-forget-teams")


def select_policy(conversation: Conversation) -> Policy | None:
    """The first active policy of the organisation whose rules match."""
    tier = conversation.contact.tier if conversation.contact_id else ""
    for policy in policies(conversation.organization_id):
        if policy.matches(conversation.channel.kind, conversation.priority, tier, conversation.team_id):
            return policy
    return None


def _iso(value: dt.datetime) -> str:
    """Clock times are stored in UTC, so equal instants compare equal as text."""
    return value.astimezone(dt.UTC).isoformat()


def _clock(state: dict[str, Any]) -> Clock:
    started = dt.datetime.fromisoformat(state["started"]) if state["started"] else None
    return Clock(started or dt.datetime.fromisoformat(state["since"]), state["target"], state["used"])


def _advance(
    state: dict[str, Any] | None, since: dt.datetime | None, target: int | None, running: bool,
    now: dt.datetime, calendar: Calendar | None, kind: str,
) -> dict[str, Any] | None:
    """One clock's next state: new when `since` changes, paused or resumed with `running`."""
    if since is None or target is None:
        return None
    if state is None or state["since"] != _iso(since) or state["kind"] != kind:
        state = {"kind": kind, "since": _iso(since), "started": _iso(since),
                 "used": 0.0, "target": target, "stage": 0}
    state = {**state, "target": target}
    if running and state["started"] is None:
        state["started"] = _iso(now)
    elif not running and state["started"] is not None:
        state["used"] = _clock(state).spent(now, calendar)
        state["started"] = None
    return state


# conversations.models.Status's values: the SLA engine sits below the conversations it
# keeps (tests/test_architecture.py checks the two agree).
PENDING, RESOLVED = "pending", "resolved"


def _attname(field: str) -> str:
    return "sla_policy_id" if field == "sla_policy" else field


def refresh(conversation: Conversation, now: dt.datetime, reselect: bool = False) -> list[str]:
    """Recompute the SLA columns of `conversation` in memory; return the changed field names."""
    before = {f: getattr(conversation, _attname(f)) for f in SLA_FIELDS}
    policy = None
    if conversation.sla_policy_id is None or reselect:
        policy = select_policy(conversation)
    else:
        policy = next((p for p in policies(conversation.organization_id)
                       if p.id == conversation.sla_policy_id), None) or select_policy(conversation)
    state = dict(conversation.sla_state or {})
    conversation.sla_policy_id = policy.id if policy else None
    if policy is None or conversation.status == RESOLVED:
        state = {}
    else:
        cal = policy.calendar
        running = conversation.status != PENDING
        first = conversation.first_response_at is None
        state["response"] = _advance(
            state.get("response"), conversation.waiting_since,
            policy.first_s if first else policy.next_s, running, now, cal, "first" if first else "next",
        )
        state["resolution"] = _advance(
            state.get("resolution"), conversation.created_at, policy.resolution_s, running, now, cal,
            "resolution",
        )
    dues: dict[str, dt.datetime | None] = {"first": None, "next": None, "resolution": None}
    checks = []
    cal = policy.calendar if policy else None
    for name in ("response", "resolution"):
        clock_state = state.get(name)
        if not clock_state:
            state.pop(name, None)
            continue
        if clock_state["started"] is None:
            continue  # paused: no due time while waiting on the customer
        clock = _clock(clock_state)
        dues[clock_state["kind"]] = clock.due_at(cal)
        check = next_check_at(clock, clock_state["stage"], cal)
        if check is not None:
            checks.append(check)
    conversation.first_response_due_at = dues["first"]
    conversation.next_response_due_at = dues["next"]
    conversation.resolution_due_at = dues["resolution"]
    present = [d for d in dues.values() if d is not None]
    conversation.sla_due_at = min(present) if present else None
    conversation.sla_check_at = min(checks) if checks else None
    conversation.sla_state = state
    return [f for f in SLA_FIELDS if getattr(conversation, _attname(f)) != before[f]]


def reached_stages(conversation: Conversation, now: dt.datetime) -> list[tuple[str, str, int]]:
    """Stages newly reached at `now`, as (clock name, clock kind, stage index); updates the state."""
    policy = next((p for p in policies(conversation.organization_id)
                   if p.id == conversation.sla_policy_id), None)
    cal = policy.calendar if policy else None
    reached = []
    state = dict(conversation.sla_state or {})
    for name in ("response", "resolution"):
        clock_state = state.get(name)
        if not clock_state or clock_state["started"] is None:
            continue
        stage = current_stage(_clock(clock_state), now, cal)
        for index in range(clock_state["stage"], stage):
            reached.append((name, clock_state["kind"], index))
        state[name] = {**clock_state, "stage": max(stage, clock_state["stage"])}
    conversation.sla_state = state
    return reached
