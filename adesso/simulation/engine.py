"""The simulation: a trace's customers, simulated agents, the real intake, routing and SLA code.

Runs only in the throw-away database `adesso simulate` sets up. The clock is
moved with time-machine from event to event, so `timezone.now()` in the real
code is the simulated time. Events, in time order (heapq): a customer message
(intake through `do_receive_message`: acknowledgement and routing happen
there), an agent finishing a conversation (`do_send_reply`, then resolve), a
timer tick (`adesso.ops.timers.tick`), and a staffing change (agents going
online or offline by the hour).

Each simulated agent answers one conversation at a time (capacity 1): after
every event, an online agent with nothing in hand takes the oldest
conversation assigned to them that waits for an answer, and spends a
lognormal handling time on it.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import time_machine
from django.utils import timezone

from adesso.accounts.actions import do_create_agent, do_create_organization
from adesso.accounts.models import Organization, User
from adesso.channels.actions import do_create_channel
from adesso.channels.base import InboundMessage, InboundSender
from adesso.channels.models import Channel
from adesso.conversations.actions import do_change_status, do_send_reply
from adesso.conversations.models import ACTIVE_STATUSES, Conversation, Status
from adesso.intake.actions import do_receive_message
from adesso.ops.timers import tick
from adesso.routing.actions import do_set_presence, do_update_routing
from adesso.simulation.trace import Arrival
from adesso.sla.models import SlaPolicy

ARRIVAL, FINISH, TICK, STAFFING = 1, 0, 3, 2  # at equal times: finish, arrive, staff, tick
REPLY_TEXT = "Thank you for waiting: here is what we found and what we will do."
# After the last arrival, keep going until every customer has an answer, at most this long.
DRAIN_LIMIT = dt.timedelta(days=7)


@dataclass
class Options:
    agents: int
    handle_minutes: float = 6.0
    handle_spread: float = 0.5
    seed: int = 1
    tick_seconds: int = 60
    target_minutes: float | None = None
    # Agents online per hour of the week (index weekday * 24 + hour, Monday 0, in `staffing_tz`).
    staffing: list[int] | None = None
    staffing_tz: dt.tzinfo = dt.UTC


@dataclass
class Agent:
    user: User
    online: bool = False
    leaving: bool = False  # off shift: goes offline once the conversation in hand is answered
    busy_with: int | None = None  # conversation pk in hand
    busy_since: dt.datetime | None = None
    busy_seconds: float = 0.0
    online_seconds: float = 0.0
    online_since: dt.datetime | None = None


@dataclass
class Run:
    """What the run did, besides what it left in the database."""

    organization_id: int
    target_seconds: int
    started: dt.datetime
    ended: dt.datetime
    arrivals: int
    agents: int
    busy_seconds: float
    online_seconds: float
    wall_seconds: float
    drained: bool


class Simulation:
    def __init__(
        self,
        arrivals: list[Arrival],
        options: Options,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if not arrivals:
            raise ValueError("No arrivals to simulate")
        self.arrivals = arrivals
        self.options = options
        self.progress = progress or (lambda done, total: None)
        self.rng = random.Random(options.seed)
        spread = options.handle_spread
        # A lognormal whose mean is handle_minutes: mu = ln(mean) - sigma^2 / 2.
        self.mu = math.log(options.handle_minutes * 60) - spread * spread / 2
        self.events: list[tuple[dt.datetime, int, int, Any]] = []
        self.seq = 0
        self.agents: list[Agent] = []
        self.channels: dict[str, Channel] = {}

    # -- set-up ---------------------------------------------------------------

    def _setup(self) -> Organization:
        admin, _password = do_create_organization("Simulation", "simulation-admin@example.invalid")
        org = admin.organization
        policy = SlaPolicy.objects.filter(organization=org).order_by("position").first()
        if policy is not None and self.options.target_minutes is not None:
            minutes = max(1, round(self.options.target_minutes))
            policy.first_response_minutes = minutes
            policy.next_response_minutes = minutes
            policy.save(update_fields=["first_response_minutes", "next_response_minutes"])
        self.target_seconds = (policy.first_response_minutes if policy else 60) * 60
        for name in sorted({a.channel for a in self.arrivals}):
            # An api channel without a webhook URL sends nothing anywhere: replies are "sent" at once.
            self.channels[name], _token = do_create_channel(org, "api", name)
        count = max(self.options.staffing) if self.options.staffing else self.options.agents
        for number in range(1, count + 1):
            user = do_create_agent(org, f"agent{number}@simulation.invalid", name=f"Agent {number}", language="en")
            self.agents.append(Agent(do_update_routing(admin, user, capacity=1, languages=["en", "it"])))
        return org

    # -- the event queue ------------------------------------------------------

    def _push(self, at: dt.datetime, kind: int, payload: Any = None) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, kind * 10**9 + self.seq, kind, payload))

    def _wanted_online(self, at: dt.datetime) -> int:
        if not self.options.staffing:
            return self.options.agents
        local = at.astimezone(self.options.staffing_tz)
        return self.options.staffing[local.weekday() * 24 + local.hour]

    def _next_hour(self, at: dt.datetime) -> dt.datetime:
        local = at.astimezone(self.options.staffing_tz).replace(minute=0, second=0, microsecond=0)
        return (local + dt.timedelta(hours=1)).astimezone(dt.UTC)

    # -- the run --------------------------------------------------------------

    def run(self) -> Run:
        wall = time.perf_counter()
        start = self.arrivals[0].at.astimezone(dt.UTC)
        last_arrival = self.arrivals[-1].at.astimezone(dt.UTC)
        with time_machine.travel(start - dt.timedelta(minutes=1), tick=False) as traveller:
            org = self._setup()
            self.org = org
            traveller.move_to(start)
            self._staff(start)
            for index, arrival in enumerate(self.arrivals):
                self._push(arrival.at.astimezone(dt.UTC), ARRIVAL, index)
            self._push(start, TICK)
            if self.options.staffing:
                self._push(self._next_hour(start), STAFFING)
            done = 0
            now = start
            while self.events:
                at, _order, kind, payload = heapq.heappop(self.events)
                if at > last_arrival + DRAIN_LIMIT:
                    break
                now = at
                traveller.move_to(now)
                if kind == ARRIVAL:
                    self._arrive(self.arrivals[payload])
                    done += 1
                    self.progress(done, len(self.arrivals))
                elif kind == FINISH:
                    self._finish(payload)
                elif kind == STAFFING:
                    self._staff(now)
                    self._push(self._next_hour(now), STAFFING)
                elif kind == TICK:
                    assigned = tick(now, deliveries=False).get("queue", 0)
                    self._next_tick(now, done)
                    if not assigned:
                        continue  # nobody got new work: no agent to start
                self._dispatch(now)
                if kind != ARRIVAL and done == len(self.arrivals) and not self._outstanding():
                    break  # everyone answered
            drained = not self._outstanding()
            for agent in self.agents:
                self._account_online(agent, now)
        return Run(
            organization_id=org.pk,
            target_seconds=self.target_seconds,
            started=start,
            ended=now,
            arrivals=len(self.arrivals),
            agents=len(self.agents),
            busy_seconds=sum(a.busy_seconds for a in self.agents),
            online_seconds=sum(a.online_seconds for a in self.agents),
            wall_seconds=time.perf_counter() - wall,
            drained=drained,
        )

    def _next_tick(self, now: dt.datetime, done: int) -> None:
        """Ticks every tick_seconds while any conversation is active; when none is, the
        timers have nothing to do until the next customer writes, so skip to then."""
        step = dt.timedelta(seconds=self.options.tick_seconds)
        if Conversation.objects.filter(organization_id=self.org.pk, status__in=ACTIVE_STATUSES).exists():
            self._push(now + step, TICK)
        elif done < len(self.arrivals):
            gap = self.arrivals[done].at - now
            self._push(now + step * max(1, math.ceil(gap / step)), TICK)

    def _outstanding(self) -> bool:
        """Anyone still waiting for an answer, or an agent still at work."""
        if any(a.busy_with is not None for a in self.agents):
            return True
        return Conversation.objects.filter(
            organization_id=self.org.pk, status=Status.OPEN, waiting_since__isnull=False
        ).exists()

    def _arrive(self, arrival: Arrival) -> None:
        inbound = InboundMessage(
            external_id=f"trace-{arrival.line}",
            sender=InboundSender(external_id=arrival.contact, name=arrival.contact),
            text=arrival.text,
        )
        do_receive_message(self.channels[arrival.channel], inbound)

    def _finish(self, index: int) -> None:
        agent = self.agents[index]
        pk, since = agent.busy_with, agent.busy_since
        assert pk is not None and since is not None
        agent.busy_with, agent.busy_since = None, None
        agent.busy_seconds += (timezone.now() - since).total_seconds()
        user = User.objects.get(pk=agent.user.pk)
        conversation = Conversation.objects.select_related("channel", "contact").get(pk=pk)
        if conversation.waiting_since is not None:
            do_send_reply(user, conversation, REPLY_TEXT)
        if conversation.status != Status.RESOLVED:
            do_change_status(user, conversation, Status.RESOLVED)
        if agent.leaving:
            self._set_online(agent, False, timezone.now())

    def _staff(self, now: dt.datetime) -> None:
        wanted = self._wanted_online(now)
        for number, agent in enumerate(self.agents):
            should = number < wanted
            agent.leaving = agent.online and not should and agent.busy_with is not None
            if should != agent.online and not agent.leaving:
                self._set_online(agent, should, now)

    def _set_online(self, agent: Agent, online: bool, now: dt.datetime) -> None:
        if not online:
            self._account_online(agent, now)
        agent.online, agent.leaving = online, False
        agent.online_since = now if online else None
        agent.user = do_set_presence(User.objects.get(pk=agent.user.pk), "online" if online else "offline")

    def _account_online(self, agent: Agent, now: dt.datetime) -> None:
        if agent.online_since is not None:
            agent.online_seconds += (now - agent.online_since).total_seconds()
            agent.online_since = now

    def _dispatch(self, now: dt.datetime) -> None:
        """Each idle online agent starts on the oldest conversation of theirs that waits."""
        idle = {a.user.pk: i for i, a in enumerate(self.agents) if a.online and not a.leaving and a.busy_with is None}
        if not idle:
            return
        waiting = (
            Conversation.objects.filter(
                organization_id=self.org.pk,
                assignee_id__in=list(idle),
                status=Status.OPEN,
                waiting_since__isnull=False,
            )
            .order_by("waiting_since", "pk")
            .values_list("pk", "assignee_id")
        )
        for pk, assignee_id in waiting:
            index = idle.pop(assignee_id, None)
            if index is None:
                continue
            agent = self.agents[index]
            agent.busy_with, agent.busy_since = pk, now
            seconds = self.rng.lognormvariate(self.mu, self.options.handle_spread)
            self._push(now + dt.timedelta(seconds=seconds), FINISH, index)
            if not idle:
                break
