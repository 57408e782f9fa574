"""An honest estimate of when a person will answer, from the live queue.

The model: each agent answers the conversations waiting for them one at a time,
taking the organisation's recent handling time `h` for each (measured on real
answers: `Message.handle_seconds`). A conversation assigned to an agent with
`k` older waiting conversations is answered in about (k + 1) * h. A queued one
at place `p` waits for `p` agents to free up among the `n` online, about
(p - 1/2) * h / n, and then needs its own h. With nobody online, the honest
answer is the SLA's due time.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.core.cache import cache

from adesso.accounts.cached import org_settings
from adesso.accounts.models import Presence, User
from adesso.conversations.models import Conversation, Message, Status
from adesso.routing.engine import queue_position

# Answers measured for the handling time, and how far back they may be.
SAMPLE = 50
MIN_SAMPLE = 5
HORIZON = dt.timedelta(days=7)
MAX_HANDLE = 2 * 3600  # an answer after a night away is not handling time


@dataclass(frozen=True)
class Estimate:
    seconds: int
    position: int  # place in the queue (1 = next), 0 when already with an agent
    ahead: int  # conversations to be answered first by the same agent(s)
    agents_online: int
    handle_seconds: int
    basis: str  # "agent", "queue" or "sla" (nobody online)


def handle_seconds(organization_id: int, now: dt.datetime) -> int:
    """The recent mean time an agent spends on an answer, cached for 30 s per organisation."""
    key = f"adesso:handle:{organization_id}"
    cached = cache.get(key)
    if cached is not None:
        return int(cached)
    values = [
        v or 0
        for v in Message.objects.filter(
            organization_id=organization_id, handle_seconds__isnull=False, created_at__gte=now - HORIZON
        )
        .order_by("-created_at")
        .values_list("handle_seconds", flat=True)[:SAMPLE]
    ]
    value = handle_from_samples(values, org_settings(organization_id).default_handle_seconds)
    cache.set(key, value, 30)
    return value


def estimate_wait(
    conversation: Conversation,
    now: dt.datetime,
    assignee_online: bool | None = None,
    agents_online: int | None = None,
    want_position: bool = False,
) -> Estimate:
    """Seconds from `now` until a person answers this conversation, and why.
    `assignee_online`, `agents_online`: what the caller knows already (routing just
    looked). The queue position is counted when the estimate needs it or when
    `want_position` (the customer asked)."""
    org_id = conversation.organization_id
    h = handle_seconds(org_id, now)
    online = User.objects.filter(organization_id=org_id, is_active=True, presence=Presence.ONLINE)
    since = conversation.waiting_since or now
    if conversation.assignee_id is not None and assignee_online is None:
        assignee_online = online.filter(pk=conversation.assignee_id).exists()
    if conversation.assignee_id is not None and assignee_online:
        ahead = Conversation.objects.filter(
            organization_id=org_id,
            assignee_id=conversation.assignee_id,
            status=Status.OPEN,
            waiting_since__lt=since,
        ).count()
        elapsed = max(0, int((now - since).total_seconds()))
        return Estimate(agent_wait_seconds(ahead, h, elapsed), 0, ahead, 1, h, "agent")
    agents = online.count() if agents_online is None else agents_online
    if agents == 0 or (conversation.queued_at is None and conversation.assignee_id is None):
        due = [d for d in (conversation.first_response_due_at, conversation.next_response_due_at) if d]
        left = int((min(due) - now).total_seconds()) if due else 3600
        position = queue_position(conversation) if want_position else 0
        return Estimate(sla_wait_seconds(left), position, 0, agents, h, "sla")
    position = queue_position(conversation)
    # Agents answer what is already assigned to them before they take from the queue;
    # one conversation each is in hand already (counted by the residual half of `h`).
    backlog = Conversation.objects.filter(
        organization_id=org_id,
        status=Status.OPEN,
        waiting_since__lt=since,
        assignee__presence=Presence.ONLINE,
    ).count()
    extra = max(0, backlog - agents)
    return Estimate(queue_wait_seconds(position, backlog, agents, h), position, extra, agents, h, "queue")


# The model itself, as pure functions: intake's estimate above and the fast
# simulator (adesso.simulation.fast) both compute the wait with these.


def handle_from_samples(samples: list[int], default: int) -> int:
    """The handling time from the latest answers' `handle_seconds` (newest first, at
    most SAMPLE of them): their mean, each capped at MAX_HANDLE; the default with fewer
    than MIN_SAMPLE; never under 30 s."""
    if len(samples) >= MIN_SAMPLE:
        value = round(sum(min(v, MAX_HANDLE) for v in samples) / len(samples))
    else:
        value = default
    return max(30, int(value))


def agent_wait_seconds(ahead: int, h: int, elapsed: int) -> int:
    """With an online agent who has `ahead` older conversations waiting: one handling
    time each and one for this, less what they have been at it already."""
    return max(60, (ahead + 1) * h - elapsed)


def sla_wait_seconds(left: int) -> int:
    """Nobody online (or not routed): the time left until the SLA's due time."""
    return max(60, left)


def queue_wait_seconds(position: int, backlog: int, agents: int, h: int) -> int:
    """At `position` in the queue, with `backlog` older conversations already with the
    `agents` online agents (one in hand each): the agents free up for the queue every
    h / agents on average, then the answer takes its own h."""
    extra = max(0, backlog - agents)
    return math.ceil((max(0.5, position - 0.5) + extra) * h / agents + h)


def friendly_minutes(seconds: int) -> int:
    """What to promise: whole minutes, rounded up to a figure people use."""
    minutes = max(2, math.ceil(seconds / 60))
    if minutes <= 15:
        return minutes
    if minutes <= 60:
        return math.ceil(minutes / 5) * 5
    if minutes <= 180:
        return math.ceil(minutes / 15) * 15
    return math.ceil(minutes / 60) * 60


def calibrated(seconds: int, factor: float | None) -> int:
    """The estimate times the calibration factor (actual waits / estimates, measured), if any."""
    if factor is None:
        return seconds
    return max(60, round(seconds * min(10.0, max(0.1, factor))))
