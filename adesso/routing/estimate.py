"""An honest estimate of when a person will answer, from the live queue.

The model: each agent answers the conversations waiting for them one at a time,
taking the organisation's recent handling time `h` for each (measured on real
answers: `Message.handle_seconds`). A conversation assigned to an agent with
`k` older waiting conversations is answered in about (k + 1) * h. A queued one
at place `p` waits for `p` agents to free up among the `n` online, about
(p - 1/2) * h / n, and then needs its own h. With nobody online, the honest
answer is the SLA's due time.

Calibrated against what happened: for each channel and hour of the week (and
basis: with an agent, or in the queue, whose errors differ), the median of
actual wait / estimate over the organisation's recent acknowledgements
(`calibration`, recomputed every CALIBRATION_TTL) multiplies the model's
estimate, once a channel has CALIBRATION_MIN_CHANNEL answered acknowledgements
(an hour of the week with fewer than CALIBRATION_MIN_HOUR uses its channel's).
The SLA's due time (nobody online) is a commitment, not an estimate: never
calibrated.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from adesso.accounts.cached import org_settings
from adesso.accounts.models import Presence, User
from adesso.conversations.models import Conversation, Message, Status
from adesso.lib import batch
from adesso.routing.engine import queue_position

# Answers measured for the handling time, and how far back they may be.
SAMPLE = 50
MIN_SAMPLE = 5
HORIZON = dt.timedelta(days=7)
MAX_HANDLE = 2 * 3600  # an answer after a night away is not handling time
# Calibration: the latest acknowledgements, how far back, how many make a factor.
CALIBRATION_SAMPLE = 2000
CALIBRATION_HORIZON = dt.timedelta(weeks=4)
CALIBRATION_MIN_CHANNEL = 20
CALIBRATION_MIN_HOUR = 50  # a median of fewer answers is too noisy (lognormal handling)
CALIBRATION_TTL = 600
FLOOR_SECONDS = 60  # waits and estimates under a minute count as a minute


@dataclass(frozen=True)
class Estimate:
    seconds: int
    position: int  # place in the queue (1 = next), 0 when already with an agent
    ahead: int  # conversations to be answered first by the same agent(s)
    agents_online: int
    handle_seconds: int
    basis: str  # "agent", "queue" or "sla" (nobody online)
    model_seconds: int = 0  # before calibration (what the calibration compares the waits with)


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
    # Once per batch of the inbound pipeline (adesso.lib.batch).
    h = batch.memo(("estimate.handle", org_id), lambda: handle_seconds(org_id, now))

    def online() -> QuerySet[User]:  # built only when asked (building it costs as much as running it)
        return User.objects.filter(organization_id=org_id, is_active=True, presence=Presence.ONLINE)

    since = conversation.waiting_since or now
    if conversation.assignee_id is not None and assignee_online is None:
        assignee_online = online().filter(pk=conversation.assignee_id).exists()
    if conversation.assignee_id is not None and assignee_online:
        _settle()
        ahead = Conversation.objects.filter(
            organization_id=org_id,
            assignee_id=conversation.assignee_id,
            status=Status.OPEN,
            waiting_since__lt=since,
        ).count()
        elapsed = max(0, int((now - since).total_seconds()))
        model = agent_wait_seconds(ahead, h, elapsed)
        return Estimate(calibrated(model, _factor(conversation, now, "agent")), 0, ahead, 1, h, "agent", model)
    agents = online().count() if agents_online is None else agents_online
    if agents == 0 or (conversation.queued_at is None and conversation.assignee_id is None):
        due = [d for d in (conversation.first_response_due_at, conversation.next_response_due_at) if d]
        left = int((min(due) - now).total_seconds()) if due else 3600
        position = 0
        if want_position:
            _settle()
            position = queue_position(conversation)
        return Estimate(sla_wait_seconds(left), position, 0, agents, h, "sla", sla_wait_seconds(left))
    _settle()
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
    model = queue_wait_seconds(position, backlog, agents, h)
    return Estimate(calibrated(model, _factor(conversation, now, "queue")), position, extra, agents, h, "queue", model)


def _settle() -> None:
    """In a batch of the inbound pipeline, its new conversations may wait for the batch's
    flush (adesso.lib.batch.deferring): before counting conversations, they must be in."""
    if batch.deferring():
        batch.flush_inserts()


def hour_of_week(at: dt.datetime) -> int:
    """0 = Monday 00:00-00:59 ... 167 = Sunday 23:00, in the site's time zone."""
    local = timezone.localtime(at)
    return local.weekday() * 24 + local.hour


def _factor(conversation: Conversation, now: dt.datetime, basis: str) -> float | None:
    key = ((conversation.channel_id, basis), hour_of_week(now))
    org_id = conversation.organization_id
    return batch.memo(("estimate.calibration", org_id), lambda: calibration(org_id, now)).get(key)


def calibration(organization_id: int, now: dt.datetime) -> dict[tuple[Any, int], float]:
    """((channel id, basis), hour of the week) -> actual wait / estimate, from the recent
    acknowledgements and the answers that followed; cached CALIBRATION_TTL seconds."""
    key = f"adesso:calibration:{organization_id}"
    cached = cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    factors = calibration_factors(acknowledged_waits(organization_id, now))
    cache.set(key, factors, CALIBRATION_TTL)
    return factors


def acknowledged_waits(organization_id: int, now: dt.datetime) -> list[tuple[Any, int, float]]:
    """((channel id, basis), hour of the week, actual wait / the model's estimate) of the
    latest answered acknowledgements (not the SLA-based ones: those are commitments)."""
    found = []
    for ack in answered_acknowledgements(organization_id, now - CALIBRATION_HORIZON, now, CALIBRATION_SAMPLE):
        if ack.basis != "sla":
            value = max(ack.actual_seconds, FLOOR_SECONDS) / max(ack.model_seconds, FLOOR_SECONDS)
            found.append(((ack.channel_id, ack.basis), hour_of_week(ack.at), value))
    return found


@dataclass(frozen=True)
class AnsweredAck:
    channel_id: int
    basis: str
    at: dt.datetime
    actual_seconds: float  # from the acknowledgement to the first human answer after it
    model_seconds: float
    estimate_seconds: float  # what the customer was told (calibrated)


def answered_acknowledgements(
    organization_id: int, start: dt.datetime, end: dt.datetime, limit: int | None = None
) -> list[AnsweredAck]:
    """The acknowledgements sent in [start, end) (the latest `limit` automatic messages)
    that a person answered, with the wait until the answer."""
    from adesso.conversations.models import ConversationEvent, Direction, EventKind

    answer = (
        Message.objects.filter(
            conversation_id=OuterRef("conversation_id"),
            created_at__gte=OuterRef("created_at"),
            direction=Direction.OUTGOING,
            auto=False,
            internal=False,
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    rows = (
        ConversationEvent.objects.filter(
            organization_id=organization_id, kind=EventKind.AUTO_SENT, created_at__gte=start, created_at__lt=end
        )
        .order_by("-created_at")
        .annotate(answered=Subquery(answer))
        .values_list("conversation__channel_id", "created_at", "data", "answered")
    )
    found = []
    for channel_id, at, data, answered in rows[:limit] if limit else rows:
        data = data or {}
        told = data.get("estimate_seconds")
        if answered is None or data.get("purpose") != "ack" or not isinstance(told, int | float):
            continue
        model = data.get("model_seconds")
        found.append(
            AnsweredAck(
                channel_id,
                str(data.get("basis") or ""),
                at,
                (answered - at).total_seconds(),
                float(model if isinstance(model, int | float) and model else told),
                float(told),
            )
        )
    return found


def calibration_factors(samples: Iterable[tuple[Any, int, float]]) -> dict[tuple[Any, int], float]:
    """(channel, hour of the week) -> the median of actual / estimate: the hour's own with
    CALIBRATION_MIN_HOUR samples, else its channel's; channels with fewer than
    CALIBRATION_MIN_CHANNEL samples are not calibrated."""
    by_hour: dict[tuple[Any, int], list[float]] = {}
    by_channel: dict[Any, list[float]] = {}
    for channel, hour, value in samples:
        by_hour.setdefault((channel, hour), []).append(value)
        by_channel.setdefault(channel, []).append(value)
    factors = {}
    for channel, values in by_channel.items():
        if len(values) < CALIBRATION_MIN_CHANNEL:
            continue
        overall = statistics.median(values)
        for hour in range(168):
            own = by_hour.get((channel, hour), [])
            factors[(channel, hour)] = round(statistics.median(own) if len(own) >= CALIBRATION_MIN_HOUR else overall, 3)
    return factors


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
