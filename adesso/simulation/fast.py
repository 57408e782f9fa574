"""The fast simulation: the same decisions as the full one, with the state in memory.

The full simulation (`engine.py`) replays every arrival through the real
actions on a throw-away database: about 30 arrivals a second, most of it the
ORM. Planning needs hundreds of replays of weeks of traffic, so this engine
keeps conversations, agents and the queue in plain Python objects and calls
the real decision code on them:

- routing: `adesso.routing.engine.choose` over `Candidate`s (sticky agent,
  language, least loaded, longest without work), the queue in routing's order
  (by the time it was queued), handed out when an agent frees up or comes
  online, as `do_assign_queued` and `do_set_presence` do;
- the acknowledgement's estimate: `adesso.routing.estimate`'s model
  (`handle_from_samples`, `agent_wait_seconds`, `queue_wait_seconds`,
  `sla_wait_seconds`, calibration included), with the same inputs the
  database would give it (queue position, backlog, agents online, the recent
  answers' handling times, cached 30 s as intake caches them);
- the SLA: `adesso.sla.clock.Clock` for the due time; promises and updates
  with `adesso.autoreply.actions.check_time` and `friendly_minutes`;
- the figures: `adesso.simulation.measures` (`figures`, `accuracy`).

What it does not do: write messages, events, deliveries or notifications,
SLA warnings, or run the timers' tick. `tests/test_simulate.py` replays the
same traces through both engines and checks that the figures agree.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adesso.accounts.models import Organization
from adesso.autoreply.actions import MIN_UPDATE_MINUTES, PROMISE_MARGIN, check_time
from adesso.conversations.models import Conversation
from adesso.lib.language import detect_language
from adesso.routing import estimate
from adesso.routing.engine import EPOCH, Candidate, choose
from adesso.simulation import measures
from adesso.simulation.engine import DRAIN_LIMIT, Options, Run
from adesso.simulation.trace import Arrival
from adesso.sla.clock import Clock
from adesso.sla.models import SlaPolicy

FINISH, ARRIVAL, STAFFING, CHECK = 0, 1, 2, 3  # at equal times: finish, arrive, staff, promise checks
HANDLE_CACHE_SECONDS = 30  # estimate.handle_seconds caches the handling time this long
LEASE_SECONDS = 60


@dataclass
class Turn:
    """A customer's wait for an answer, from their first message to the answer."""

    pk: int
    contact: str
    channel: str
    start: float
    conversation: Conversation  # unsaved: what routing's choice reads (language, team, skill)
    hour_of_week: int = 0
    assignee: int | None = None  # agent index
    queued_at: float | None = None
    answered: float | None = None
    ack_at: float | None = None
    ack_estimate: int | None = None
    ack_model: int = 0  # the estimate before calibration
    ack_basis: str = ""
    ack_hour: int = 0  # hour of the week of the acknowledgement, as estimate.hour_of_week
    ack_seq: int = 0  # how many acknowledgements came before
    promise_at: float | None = None
    check_at: float | None = None
    heard: list[float] = field(default_factory=list)  # messages back: ack, updates, answer


@dataclass
class SimAgent:
    candidate: Candidate
    online: bool = False
    leaving: bool = False
    busy_with: Turn | None = None
    busy_since: float = 0.0
    busy_seconds: float = 0.0
    online_since: float | None = None
    online_seconds: float = 0.0
    last_reply_at: float | None = None


@dataclass
class FastRun:
    turns: list[Turn]
    target_seconds: int
    started: float
    ended: float
    arrivals: int
    agents: int
    busy_seconds: float
    online_seconds: float
    wall_seconds: float
    drained: bool


def _ts(at: dt.datetime) -> float:
    return at.timestamp()


def _dt(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class FastSimulation:
    def __init__(
        self,
        arrivals: list[Arrival],
        options: Options,
        progress: Callable[[int, int], None] | None = None,
        calibrate: bool = True,
    ) -> None:
        if not arrivals:
            raise ValueError("No arrivals to simulate")
        self.arrivals = arrivals
        self.options = options
        self.progress = progress or (lambda done, total: None)
        self.rng = random.Random(options.seed)
        spread = options.handle_spread
        self.mu = math.log(options.handle_minutes * 60) - spread * spread / 2
        self.events: list[tuple[float, int, int, Any]] = []
        self.seq = 0
        minutes = SlaPolicy._meta.get_field("first_response_minutes").get_default()
        if options.target_minutes is not None:
            minutes = max(1, round(options.target_minutes))
        self.target_seconds = int(minutes) * 60
        self.default_handle = int(Organization._meta.get_field("default_handle_seconds").get_default())
        count = max(options.staffing) if options.staffing else options.agents
        self.agents = [
            SimAgent(
                Candidate(
                    agent_id=n + 1,
                    code=f"a{n + 1}",
                    capacity=1,
                    load=0,
                    languages=["en", "it"],
                    skills=[],
                    last_assigned_at=EPOCH,
                    teams=set(),
                )
            )
            for n in range(count)
        ]
        self.turns: list[Turn] = []
        self.waiting: dict[tuple[str, str], Turn] = {}  # (channel, contact) -> the open turn
        self.last_agent: dict[str, int] = {}  # contact -> agent index who last had them
        self.queue: list[tuple[float, int, Turn]] = []  # heap: (queued_at, pk, turn)
        self.samples: deque[tuple[float, int]] = deque(maxlen=estimate.SAMPLE)  # (at, handle_seconds)
        self.handle_cached: tuple[float, int] | None = None
        self.languages: dict[str, str] = {}
        self.conversations: dict[str, Conversation] = {}
        self.assigned: set[int] = set()  # agents given a conversation since the last dispatch
        # The estimates calibrated on the waits so far, as intake's (calibrate=False: the model alone).
        self.calibrate = calibrate
        self.acked: list[Turn] = []
        self.factors: tuple[float, dict[tuple[Any, int], float]] | None = None
        self.factor_count = self.factor_samples = 0  # answers when last computed, samples used
        self.answered_count = 0
        # (ack number, ack time, answer time, (channel, basis), hour of the week, actual / model)
        self.answered_samples: deque[tuple[int, float, float, tuple[str, str], int, float]] = deque(
            maxlen=estimate.CALIBRATION_SAMPLE
        )

    # -- the event queue --------------------------------------------------------

    def _push(self, at: float, kind: int, payload: Any = None) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, kind * 10**9 + self.seq, kind, payload))

    def _wanted_online(self, at: float) -> int:
        if not self.options.staffing:
            return self.options.agents
        local = _dt(at).astimezone(self.options.staffing_tz)
        return self.options.staffing[local.weekday() * 24 + local.hour]

    def _next_hour(self, at: float) -> float:
        local = _dt(at).astimezone(self.options.staffing_tz).replace(minute=0, second=0, microsecond=0)
        return (local + dt.timedelta(hours=1)).timestamp()

    def run(self) -> FastRun:
        wall = time.perf_counter()
        start = _ts(self.arrivals[0].at)
        last_arrival = _ts(self.arrivals[-1].at)
        limit = last_arrival + DRAIN_LIMIT.total_seconds()
        self._staff(start)
        for index, arrival in enumerate(self.arrivals):
            self._push(_ts(arrival.at), ARRIVAL, index)
        if self.options.staffing:
            self._push(self._next_hour(start), STAFFING)
        done = 0
        total = len(self.arrivals)
        every = max(1, total // 200)
        now = start
        while self.events:
            at, _order, kind, payload = heapq.heappop(self.events)
            if at > limit:
                break
            now = at
            if kind == ARRIVAL:
                self._arrive(self.arrivals[payload], now)
                done += 1
                if done % every == 0 or done == total:
                    self.progress(done, total)
            elif kind == FINISH:
                self._finish(payload, now)
            elif kind == STAFFING:
                self._staff(now)
                if done < total or self.waiting or any(a.busy_with for a in self.agents):
                    self._push(self._next_hour(now), STAFFING)
            elif kind == CHECK:
                self._check(payload, now)
            self._dispatch(now)
            if done == total and not self.waiting and not any(a.busy_with for a in self.agents):
                break
        drained = not self.waiting
        for agent in self.agents:
            self._account_online(agent, now)
        return FastRun(
            turns=self.turns,
            target_seconds=self.target_seconds,
            started=start,
            ended=now,
            arrivals=total,
            agents=len(self.agents),
            busy_seconds=sum(a.busy_seconds for a in self.agents),
            online_seconds=sum(a.online_seconds for a in self.agents),
            wall_seconds=time.perf_counter() - wall,
            drained=drained,
        )

    # -- customers --------------------------------------------------------------

    def _language(self, text: str) -> str:
        found = self.languages.get(text)
        if found is None:
            found = self.languages[text] = detect_language(text)
        return found

    def _conversation(self, language: str) -> Conversation:
        """What routing's choice reads of a conversation (team, skill, language): one
        unsaved instance per language, as every simulated conversation has no team or skill."""
        found = self.conversations.get(language)
        if found is None:
            found = self.conversations[language] = Conversation(language=language, team_id=None, skill="")
        return found

    def _arrive(self, arrival: Arrival, now: float) -> None:
        key = (arrival.channel, arrival.contact)
        if key in self.waiting:
            return  # still waiting: the same turn
        conversation = self._conversation(self._language(arrival.text))
        turn = Turn(len(self.turns) + 1, arrival.contact, arrival.channel, now, conversation)
        local = arrival.at.astimezone(self.options.staffing_tz)
        turn.hour_of_week = local.weekday() * 24 + local.hour
        self.turns.append(turn)
        self.waiting[key] = turn
        pool = self._pool()
        assigned = self._route(turn, now, pool)
        self._acknowledge(turn, now, assignee_online=assigned, agents_online=len(pool))

    def _pool(self) -> list[Candidate]:
        return [a.candidate for a in self.agents if a.online]

    def _route(self, turn: Turn, now: float, pool: list[Candidate]) -> bool:
        """routing.route: the agent `choose` picks, or the queue."""
        sticky = self.last_agent.get(turn.contact)
        pick = choose(turn.conversation, pool, None if sticky is None else sticky + 1)
        if pick is None:
            if turn.queued_at is None:  # a queued one keeps its place
                turn.queued_at = now
                heapq.heappush(self.queue, (now, turn.pk, turn))
            return False
        chosen, _reason = pick
        index = chosen.agent_id - 1
        turn.assignee, turn.queued_at = index, None
        chosen.load += 1
        chosen.last_assigned_at = _dt(now)
        self.last_agent[turn.contact] = index
        self.assigned.add(index)
        return True

    def _assign_queued(self, now: float) -> None:
        """do_assign_queued: the queue's head to agents with room, while there is room."""
        pool = self._pool()
        room = sum(max(0, c.capacity - c.load) for c in pool)
        if not room or not self.queue:
            return
        looked = 0
        passed: list[tuple[float, int, Turn]] = []
        while self.queue and looked < min(200, room * 4) and any(c.free for c in pool):
            item = heapq.heappop(self.queue)
            looked += 1
            if not self._route(item[2], now, pool):
                passed.append(item)  # still queued, in its place
        for item in passed:
            heapq.heappush(self.queue, item)

    def _handle_seconds(self, now: float) -> int:
        if self.handle_cached is not None and now < self.handle_cached[0] + HANDLE_CACHE_SECONDS:
            return self.handle_cached[1]
        horizon = now - estimate.HORIZON.total_seconds()
        values = [v for at, v in reversed(self.samples) if at >= horizon]
        value = estimate.handle_from_samples(values, self.default_handle)
        self.handle_cached = (now, value)
        return value

    def _estimate(self, turn: Turn, now: float, assignee_online: bool, agents_online: int) -> tuple[int, str]:
        """estimate.estimate_wait on the in-memory state."""
        h = self._handle_seconds(now)
        if turn.assignee is not None and assignee_online:
            ahead = 0  # capacity 1: the agent had nothing else open when it was given
            return estimate.agent_wait_seconds(ahead, h, max(0, int(now - turn.start))), "agent"
        if agents_online == 0 or (turn.queued_at is None and turn.assignee is None):
            due = Clock(_dt(turn.start), self.target_seconds).due_at(None)
            return estimate.sla_wait_seconds(int(due.timestamp() - now)), "sla"
        if turn.queued_at == now and turn.pk == len(self.turns):
            position = len(self.queue)  # just queued, the newest: last in the queue
        else:
            mine = (turn.queued_at or now, turn.pk)
            position = sum(1 for queued_at, pk, _t in self.queue if (queued_at, pk) < mine) + 1
        # Older conversations already with an online agent (the ones in hand included):
        # capacity 1 and a dispatch after every event, so the ones agents have in hand.
        backlog = sum(1 for a in self.agents if a.online and a.busy_with is not None and a.busy_with.start < turn.start)
        return estimate.queue_wait_seconds(position, backlog, agents_online, h), "queue"

    def _factor(self, now: float) -> dict[tuple[Any, int], float]:
        """estimate.calibration: actual wait / estimate of the acknowledgements answered
        so far, recomputed every CALIBRATION_TTL seconds (when enough changed)."""
        if self.factors is not None and now < self.factors[0] + estimate.CALIBRATION_TTL:
            return self.factors[1]
        horizon = now - estimate.CALIBRATION_HORIZON.total_seconds()
        first = len(self.acked) - estimate.CALIBRATION_SAMPLE
        oldest = self.acked[max(0, first)].ack_at if self.acked else None
        # Medians of up to 2,000 answers barely move with a few more: recompute them once
        # 5 % more answers came in (or the oldest left the horizon), not every 10 minutes.
        fresh = self.answered_count - self.factor_count
        if self.factors is not None and fresh < max(1, self.factor_samples // 20) and (oldest or now) >= horizon:
            self.factors = (now, self.factors[1])
            return self.factors[1]
        self.factor_count = self.answered_count
        samples = [
            (key, hour, value)
            for seq, ack_at, answered, key, hour, value in self.answered_samples
            if seq >= first and ack_at >= horizon and answered < now
        ]
        factors = estimate.calibration_factors(samples)
        self.factors = (now, factors)
        self.factor_samples = len(samples)
        return factors

    def _calibrated(self, turn: Turn, now: float, seconds: int, basis: str) -> int:
        if not self.calibrate or basis == "sla":
            return seconds
        return estimate.calibrated(
            seconds, self._factor(now).get(((turn.channel, basis), estimate.hour_of_week(_dt(now))))
        )

    def _promise(self, turn: Turn, now: float, seconds: int, basis: str, update: bool) -> None:
        margin = 1.0 if basis == "sla" else PROMISE_MARGIN
        minutes = estimate.friendly_minutes(round(seconds * margin))
        if update:
            minutes = max(minutes, MIN_UPDATE_MINUTES)
        turn.promise_at = now + minutes * 60
        check = check_time(_dt(now), _dt(turn.promise_at)).timestamp()
        turn.check_at = check
        self._push(check, CHECK, turn)

    def _acknowledge(self, turn: Turn, now: float, assignee_online: bool, agents_online: int) -> None:
        model, basis = self._estimate(turn, now, assignee_online, agents_online)
        seconds = self._calibrated(turn, now, model, basis)
        turn.ack_at, turn.ack_estimate, turn.ack_model, turn.ack_basis = now, seconds, model, basis
        turn.ack_hour = estimate.hour_of_week(_dt(now))
        turn.ack_seq = len(self.acked)
        self.acked.append(turn)
        turn.heard.append(now)
        self._promise(turn, now, seconds, basis, update=False)

    def _check(self, turn: Turn, now: float) -> None:
        """autoreply._check: still on time by the live queue, or an update now."""
        if turn.check_at != now or turn.answered is not None or turn.promise_at is None:
            return
        last_call = turn.promise_at - 60
        agents = sum(1 for a in self.agents if a.online)
        assignee_online = turn.assignee is not None and self.agents[turn.assignee].online
        model, basis = self._estimate(turn, now, assignee_online, agents)
        seconds = self._calibrated(turn, now, model, basis)
        if now < last_call and now + seconds <= turn.promise_at:
            turn.check_at = last_call
            self._push(last_call, CHECK, turn)
            return
        turn.heard.append(now)
        self._promise(turn, now, seconds, basis, update=True)

    # -- agents -----------------------------------------------------------------

    def _finish(self, index: int, now: float) -> None:
        agent = self.agents[index]
        turn = agent.busy_with
        assert turn is not None
        agent.busy_with = None
        agent.busy_seconds += now - agent.busy_since
        # do_send_reply: the answer, its handling time for the estimates.
        began = max(turn.start, agent.last_reply_at or turn.start)
        self.samples.append((now, max(0, int(now - began))))
        agent.last_reply_at = now
        turn.answered = now
        self.answered_count += 1
        if turn.ack_at is not None and turn.ack_basis != "sla":
            value = max(now - turn.ack_at, estimate.FLOOR_SECONDS) / max(turn.ack_model, estimate.FLOOR_SECONDS)
            self.answered_samples.append(
                (turn.ack_seq, turn.ack_at, now, (turn.channel, turn.ack_basis), turn.ack_hour, value)
            )
        turn.heard.append(now)
        turn.check_at = None
        del self.waiting[(turn.channel, turn.contact)]
        # do_change_status(resolved): the agent has room; the queue is handed out.
        agent.candidate.load -= 1
        self._assign_queued(now)
        if agent.leaving:
            self._set_online(agent, False, now)

    def _staff(self, now: float) -> None:
        wanted = self._wanted_online(now)
        for number, agent in enumerate(self.agents):
            should = number < wanted
            agent.leaving = agent.online and not should and agent.busy_with is not None
            if should != agent.online and not agent.leaving:
                self._set_online(agent, should, now)

    def _set_online(self, agent: SimAgent, online: bool, now: float) -> None:
        """do_set_presence: going offline hands back what still waits for an answer."""
        if not online:
            self._account_online(agent, now)
            index = self.agents.index(agent)
            for turn in list(self.waiting.values()):
                if turn.assignee == index and agent.busy_with is not turn:
                    turn.assignee = None
                    agent.candidate.load -= 1
                    turn.queued_at = turn.start
                    heapq.heappush(self.queue, (turn.start, turn.pk, turn))
        agent.online, agent.leaving = online, False
        agent.online_since = now if online else None
        self._assign_queued(now)

    def _account_online(self, agent: SimAgent, now: float) -> None:
        if agent.online_since is not None:
            agent.online_seconds += now - agent.online_since
            agent.online_since = now

    def _dispatch(self, now: float) -> None:
        """Each idle online agent starts on the conversation assigned to them that waits
        (only an agent just given one can have one and be idle)."""
        if not self.assigned:
            return
        ready, self.assigned = sorted(self.assigned), set()
        for index in ready:
            agent = self.agents[index]
            if not agent.online or agent.leaving or agent.busy_with is not None or not agent.candidate.load:
                continue
            mine = [t for t in self.waiting.values() if t.assignee == index]
            if not mine:
                continue
            turn = min(mine, key=lambda t: (t.start, t.pk))
            agent.busy_with, agent.busy_since = turn, now
            seconds = self.rng.lognormvariate(self.mu, self.options.handle_spread)
            self._push(now + seconds, FINISH, index)


def as_run(run: FastRun) -> Run:
    """The run's totals as the full engine reports them."""
    return Run(
        organization_id=0,
        target_seconds=run.target_seconds,
        started=_dt(run.started),
        ended=_dt(run.ended),
        arrivals=run.arrivals,
        agents=run.agents,
        busy_seconds=run.busy_seconds,
        online_seconds=run.online_seconds,
        wall_seconds=run.wall_seconds,
        drained=run.drained,
    )


def measure_turns(run: FastRun) -> list[measures.Turn]:
    """The run's turns as `measures` reads them from the database in the full simulation."""
    end = _dt(run.ended)
    found = []
    for turn in run.turns:
        start = _dt(turn.start)
        item = measures.Turn(turn.pk, turn.channel, start, start)
        for at in turn.heard:
            item.hear(_dt(at))
        if turn.answered is None:
            item.hear(end)
        else:
            item.answered = _dt(turn.answered)
        found.append(item)
    return found


def report(run: FastRun) -> dict[str, Any]:
    """The same figures as `measures.report` on the full simulation's database."""
    end = _dt(run.ended)
    found = measure_turns(run)
    result = measures.summary(found, run.target_seconds, end)
    ratios = [
        measures.ratio(t.ack_estimate, t.answered - t.ack_at)
        for t in run.turns
        if t.answered is not None and t.ack_at is not None and t.ack_estimate is not None
    ]
    result.update(
        {
            "acknowledgements": sum(1 for t in run.turns if t.ack_at is not None),
            "acknowledged_share": (
                round(sum(1 for t in run.turns if t.ack_at is not None) / len(run.turns), 4) if run.turns else None
            ),
            "updates": sum(max(0, len(t.heard) - 1 - (t.answered is not None)) for t in run.turns),
        }
    )
    result.update(measures.accuracy(ratios))
    return result
