"""The staffing planner: how many agents each hour of the week needs so that a chosen
share of customers (e.g. 95%) gets a human answer within the target.

1. Arrivals: customer turns (a customer's message that starts a wait for an answer)
   per hour of the week, averaged over the last N weeks: from the database, or from
   a trace CSV (`timestamp,channel,contact,text`, as `adesso simulate` reads it; every row a turn: messages a
   customer sends while already waiting would not need more agents, so this errs on
   the safe side).
2. Handling time: a parameter, else estimated from the database as the median gap
   between two consecutive public replies of the same agent, counting only gaps up
   to 30 minutes (longer ones are breaks); at least 20 such gaps are needed, else
   the default of 6 minutes (as `adesso simulate`). Gaps include some idle time when an agent is not
   busy, so the estimate errs long, on the safe side again.
3. Agents per hour: Erlang C (`adesso.lib.erlang.agents_needed`), each hour of the
   week on its own, for the load that hour must survive, not its mean: the
   BURST_PERCENTILE of that hour's arrivals across the weeks (with 4 weeks, the
   busiest of the four). Under a 24/7 policy every hour has at least one agent
   (a customer who writes at 4 in the morning is promised an answer within the
   hour too); under business hours, an hour with any arrivals has one.
4. Verified by the simulator (`verify`): the history is replayed through the fast
   simulation (adesso.simulation.fast: the real routing, estimate and SLA
   decisions) with the plan's agents, and the hours whose customers waited past
   the target get more agents, round by round, until the chosen share is met.
   The plan then says the share it expects, in the history and on the most
   recent week, held out of the planning, and the agent-hours it costs.

Fewer than MIN_WEEKS weeks of history, or fewer than MIN_TURNS customer turns, is
too short to plan from: the plan says so (`history.too_short`).

Pure functions on lists of times, plus two readers (database, trace file).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from adesso.lib.erlang import agents_needed, offered_load
from adesso.lib.errors import ActionError

if TYPE_CHECKING:
    from adesso.simulation.fast import FastRun
    from adesso.simulation.trace import Arrival

HOURS_OF_WEEK = 168
DEFAULT_WEEKS = 4
DEFAULT_SHARE = 0.95
DEFAULT_TARGET_SECONDS = 3600
DEFAULT_HANDLE_SECONDS = 360  # as `adesso simulate`'s default handling time
MAX_GAP_SECONDS = 30 * 60
MIN_GAPS = 20
BURST_PERCENTILE = 0.9  # of one hour of the week's arrivals across the weeks
MIN_WEEKS = 2
MIN_TURNS = 50
HELD_OUT = dt.timedelta(weeks=1)
VERIFY_LIMIT = 10_000  # customer turns the page replays (about a second); more: `adesso plan`
MAX_ROUNDS = 40
SIM_SPREAD = 0.5  # the simulated handling times: lognormal, as `adesso simulate`'s default
SIM_SEED = 1


def hour_of_week(t: dt.datetime, tz: ZoneInfo) -> int:
    """0 for Monday 00:00-00:59 local time, ... 167 for Sunday 23:00-23:59."""
    local = t.astimezone(tz)
    return local.weekday() * 24 + local.hour


def _hour_floor(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Arrivals:
    """Average customer turns per hour, for each hour of the week."""

    per_hour: list[float]  # HOURS_OF_WEEK values
    start: dt.datetime
    end: dt.datetime
    turns: int
    source: str  # "database" or "trace"
    tz: ZoneInfo
    # The BURST_PERCENTILE of each hour of the week's arrivals over its occurrences.
    peak_per_hour: list[float] | None = None

    @property
    def weeks(self) -> float:
        return (self.end - self.start).total_seconds() / (7 * 86400)


def average_by_hour_of_week(
    times: Iterable[dt.datetime], start: dt.datetime, end: dt.datetime, tz: ZoneInfo, source: str
) -> Arrivals:
    """Arrivals in [start, end) counted per hour of the week, divided by how many times
    that hour of the week occurs in the window (so a partial week is not diluted)."""
    counts = [0] * HOURS_OF_WEEK
    by_hour: dict[dt.datetime, int] = {}
    turns = 0
    for t in times:
        if start <= t < end:
            counts[hour_of_week(t, tz)] += 1
            floor = _hour_floor(t)
            by_hour[floor] = by_hour.get(floor, 0) + 1
            turns += 1
    seen = [0] * HOURS_OF_WEEK
    occurrences: list[list[int]] = [[] for _ in range(HOURS_OF_WEEK)]
    hour = _hour_floor(start)
    while hour < end:
        index = hour_of_week(hour, tz)
        seen[index] += 1
        occurrences[index].append(by_hour.get(hour, 0))
        hour += dt.timedelta(hours=1)
    per_hour = [counts[i] / seen[i] if seen[i] else 0.0 for i in range(HOURS_OF_WEEK)]
    peak = [float(_nearest_rank(found, BURST_PERCENTILE)) if found else 0.0 for found in occurrences]
    return Arrivals(per_hour, start, end, turns, source, tz, peak)


def _nearest_rank(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def history(arrivals: Arrivals) -> dict[str, Any]:
    """Whether there is enough history to plan from, and why not."""
    weeks = round(arrivals.weeks, 2)
    notes = []
    if arrivals.weeks < MIN_WEEKS:
        notes.append(
            _(
                "%(weeks)s week(s) of history: each hour of the week was seen fewer than %(min)s times, "
                "so its busy days are guesses."
            )
            % {"weeks": weeks, "min": MIN_WEEKS}
        )
    if arrivals.turns < MIN_TURNS:
        notes.append(
            _("%(turns)s customer turns: fewer than %(min)s, too few to plan from.")
            % {"turns": arrivals.turns, "min": MIN_TURNS}
        )
    return {"weeks": weeks, "turns": arrivals.turns, "too_short": bool(notes), "notes": notes}


def staffing(
    arrivals: Arrivals,
    handle_seconds: float,
    target_seconds: float,
    share: float,
    handle_source: str = "parameter",
    always_open: bool = True,
) -> dict[str, Any]:
    """The plan, as the JSON `adesso plan --json` prints and the API returns.

    Keys (stable: `adesso simulate` reads them): hours (168 items, Monday 00:00
    first, each {weekday (0 = Monday), hour, arrivals_per_hour, arrivals_planned
    (the burst the hour is planned for), load_erlangs, agents, expected_share
    (null until verified)}), max_agents, agent_hours_per_week, handle_seconds,
    handle_source, target_seconds, share, weeks, timezone, source, from, to,
    customer_turns, coverage ("24/7" or "business hours"), history, verification
    (null until verified).
    """
    if not handle_seconds > 0 or math.isinf(handle_seconds):
        raise ActionError(_("The handling time must be more than 0."), "invalid_plan")
    if not target_seconds > 0 or math.isinf(target_seconds):
        raise ActionError(_("The target must be more than 0."), "invalid_plan")
    if not 0 < share < 1:
        raise ActionError(_("The share must be between 0 and 1 (e.g. 0.95)."), "invalid_plan")
    hours: list[dict[str, Any]] = []
    week: list[int] = []
    peaks = arrivals.peak_per_hour or arrivals.per_hour
    for i, mean in enumerate(arrivals.per_hour):
        rate = max(mean, peaks[i])
        try:
            agents = agents_needed(rate, handle_seconds, target_seconds, share) if rate > 0 else 0
        except ValueError:
            raise ActionError(
                _("The target cannot be met at %(rate)s arrivals per hour.") % {"rate": round(rate, 1)}, "invalid_plan"
            ) from None
        if always_open or mean > 0:
            agents = max(1, agents)  # someone there to answer within the target
        week.append(agents)
        hours.append(
            {
                "weekday": i // 24,
                "hour": i % 24,
                "arrivals_per_hour": round(mean, 3),
                "arrivals_planned": round(rate, 3),
                "load_erlangs": round(offered_load(rate, handle_seconds), 3),
                "agents": agents,
                "expected_share": None,
            }
        )
    return {
        "hours": hours,
        "max_agents": max(week, default=0),
        "agent_hours_per_week": sum(week),
        "handle_seconds": round(handle_seconds, 1),
        "handle_source": handle_source,
        "target_seconds": round(target_seconds),
        "share": share,
        "weeks": round(arrivals.weeks, 2),
        "timezone": str(arrivals.tz),
        "source": arrivals.source,
        "from": arrivals.start.isoformat(),
        "to": arrivals.end.isoformat(),
        "customer_turns": arrivals.turns,
        "coverage": "24/7" if always_open else "business hours",
        "history": history(arrivals),
        "verification": None,
    }


def median_handle_seconds(reply_times: dict[Any, list[float]]) -> float | None:
    """Median gap between consecutive replies of the same agent, gaps up to 30 minutes;
    None with fewer than MIN_GAPS gaps."""
    gaps = []
    for times in reply_times.values():
        times = sorted(times)
        gaps += [b - a for a, b in itertools.pairwise(times) if 0 < b - a <= MAX_GAP_SECONDS]
    if len(gaps) < MIN_GAPS:
        return None
    return float(statistics.median(gaps))


# --- Verifying a plan in the simulator -----------------------------------------

Progress = Callable[[str, int, int], None]


def _simulate(
    arrivals: list[Arrival],
    week: list[int],
    plan: dict[str, Any],
    tz: ZoneInfo,
    calibrate: bool = True,
) -> FastRun:
    from adesso.simulation.engine import Options
    from adesso.simulation.fast import FastSimulation

    options = Options(
        agents=0,
        handle_minutes=plan["handle_seconds"] / 60,
        handle_spread=SIM_SPREAD,
        seed=SIM_SEED,
        target_minutes=plan["target_seconds"] / 60,
        staffing=list(week),
        staffing_tz=tz,
    )
    return FastSimulation(arrivals, options, calibrate=calibrate).run()


def _late_by_hour(run: FastRun) -> tuple[list[int], list[int]]:
    turns, late = [0] * HOURS_OF_WEEK, [0] * HOURS_OF_WEEK
    for turn in run.turns:
        turns[turn.hour_of_week] += 1
        if turn.answered is None or turn.answered - turn.start > run.target_seconds:
            late[turn.hour_of_week] += 1
    return turns, late


def _figures(run: FastRun, week: list[int]) -> dict[str, Any]:
    from adesso.simulation.fast import report

    result = report(run)
    return {
        "from": dt.datetime.fromtimestamp(run.started, dt.UTC).isoformat(),
        "to": dt.datetime.fromtimestamp(run.ended, dt.UTC).isoformat(),
        "turns": result["turns"],
        "within_target_share": result["within_target_share"],
        "first_response_p50_s": result["first_response_p50_s"],
        "first_response_p90_s": result["first_response_p90_s"],
        "max_silence_s": result["max_silence_s"],
        "estimate_within_2x_share": result["estimate_within_2x_share"],
        "estimate_ratio_median": result["estimate_ratio_median"],
        "utilisation": round(run.busy_seconds / run.online_seconds, 4) if run.online_seconds else None,
        "agent_hours": round(run.online_seconds / 3600, 1),
    }


def _with_model(figures: dict[str, Any], uncalibrated: FastRun) -> dict[str, Any]:
    """The estimates' accuracy without the calibration too (the model alone), to compare."""
    from adesso.simulation.fast import report

    result = report(uncalibrated)
    figures["model_estimate_within_2x_share"] = result["estimate_within_2x_share"]
    figures["model_estimate_ratio_median"] = result["estimate_ratio_median"]
    return figures


def verify(
    plan: dict[str, Any], past: list[Arrival], held_out: list[Arrival] | None, progress: Progress | None = None
) -> dict[str, Any]:
    """Replay `past` with the plan's agents in the fast simulation and raise the hours
    whose customers waited past the target until `share` of them did not (at most
    MAX_ROUNDS rounds); then replay `held_out` (the week after) with the plan. The
    estimates are calibrated as intake calibrates them (on the waits so far); their
    accuracy without calibration is given too. Updates `plan` in place."""
    tz = ZoneInfo(plan["timezone"])
    progress = progress or (lambda stage, done, total: None)
    week = [h["agents"] for h in plan["hours"]]
    erlang_hours = sum(week)
    seen = [0] * HOURS_OF_WEEK
    if past:
        hour = _hour_floor(past[0].at)
        while hour <= past[-1].at:
            seen[hour_of_week(hour, tz)] += 1
            hour += dt.timedelta(hours=1)
    rounds = 0
    run = None
    if past:
        while True:
            progress("verify", rounds, MAX_ROUNDS)
            run = _simulate(past, week, plan, tz)
            turns, late = _late_by_hour(run)
            total = sum(turns)
            if not total or (total - sum(late)) / total >= plan["share"] or rounds >= MAX_ROUNDS:
                break
            rounds += 1
            worst = max(late)
            for i in range(HOURS_OF_WEEK):
                if late[i] and late[i] * 2 >= worst:
                    # The work of the late customers, spread over how often that hour came round.
                    extra = late[i] * plan["handle_seconds"] / 3600 / max(1, seen[i])
                    week[i] += max(1, math.ceil(extra))
        progress("verify", MAX_ROUNDS, MAX_ROUNDS)
    for i, item in enumerate(plan["hours"]):
        item["agents"] = week[i]
    plan["max_agents"] = max(week)
    plan["agent_hours_per_week"] = sum(week)
    in_sample = None
    if run is not None:
        turns, late = _late_by_hour(run)
        for i, item in enumerate(plan["hours"]):
            item["expected_share"] = round((turns[i] - late[i]) / turns[i], 4) if turns[i] else None
        in_sample = _with_model(_figures(run, week), _simulate(past, week, plan, tz, calibrate=False))
    out = None
    if held_out:
        progress("held out", 0, 1)
        out = _with_model(
            _figures(_simulate(held_out, week, plan, tz), week), _simulate(held_out, week, plan, tz, calibrate=False)
        )
        progress("held out", 1, 1)
    met = in_sample is not None and (in_sample["within_target_share"] or 0) >= plan["share"]
    plan["verification"] = {
        "engine": "fast",
        "handle_spread": SIM_SPREAD,
        "seed": SIM_SEED,
        "rounds": rounds,
        "met": met,
        "erlang_agent_hours_per_week": erlang_hours,
        "agent_hours_per_week": sum(week),
        "in_sample": in_sample,
        "held_out": out,
    }
    return plan


# --- Reading a trace ---------------------------------------------------------


def trace_arrivals(name: str | Path, weeks: float | None, tz: ZoneInfo) -> Arrivals:
    """Arrivals from a trace (a path, or a shipped trace's name such as "twcs"): its last
    `weeks` (all of it when None), ending at its last row. The format and its reader
    are `adesso simulate`'s (adesso.simulation.trace)."""
    from adesso.simulation import trace

    try:
        path = trace.resolve(str(name))
        times = [arrival.at for arrival in trace.read(path)]
    except trace.TraceError as exc:
        raise ActionError(str(exc), "invalid_trace") from None
    if not times:
        raise ActionError(_("The trace %(path)s has no rows.") % {"path": path}, "invalid_trace")
    end = _hour_floor(times[-1]) + dt.timedelta(hours=1)
    start = _hour_floor(times[0])
    if weeks is not None:
        start = max(start, end - dt.timedelta(weeks=weeks))
    return average_by_hour_of_week(times, start, end, tz, "trace")


# --- Reading the database ------------------------------------------------------


def database_window(now: dt.datetime, weeks: float) -> tuple[dt.datetime, dt.datetime]:
    """The last `weeks` weeks of whole hours before now."""
    end = _hour_floor(now)
    return end - dt.timedelta(weeks=weeks), end


def customer_turns(organization_id: int, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Times of customers' messages in [start, end) that started a wait (a message sent
    while already waiting is the same turn)."""
    from adesso.conversations.models import Direction, Message
    from adesso.reports.sql import Epoch, raw_rows

    rows = (
        Message.objects.filter(organization_id=organization_id, created_at__gte=start, created_at__lt=end)
        .order_by("conversation_id", "created_at", "pk")
        .values_list("conversation_id", Epoch("created_at"), "direction", "internal", "auto")
    )
    turns: list[dt.datetime] = []
    current, waiting = None, False
    for pk, at, direction, internal, auto in raw_rows(rows):
        if pk != current:
            current, waiting = pk, False
        if direction == Direction.INCOMING:
            if not waiting:
                turns.append(dt.datetime.fromtimestamp(at, dt.UTC))
                waiting = True
        elif not internal and not auto:
            waiting = False
    return turns


def _agent_replies(organization_id: int, start: dt.datetime, end: dt.datetime) -> Any:
    """Agents' own replies to customers in [start, end): no notes, no automatic messages."""
    from adesso.conversations.models import Direction, Message

    return Message.objects.filter(
        organization_id=organization_id,
        created_at__gte=start,
        created_at__lt=end,
        direction=Direction.OUTGOING,
        internal=False,
        auto=False,
        author__isnull=False,
    )


def reply_times(organization_id: int, start: dt.datetime, end: dt.datetime) -> dict[Any, list[float]]:
    from adesso.reports.sql import Epoch, raw_rows

    rows = _agent_replies(organization_id, start, end).values_list("author_id", Epoch("created_at"))
    out: dict[Any, list[float]] = {}
    for author, at in raw_rows(rows):
        out.setdefault(author, []).append(at)
    return out


def organization_target_seconds(organization_id: int) -> int:
    """The first-response target of the organisation's catch-all policy (60 min by default)."""
    from adesso.sla.models import SlaPolicy

    for policy in SlaPolicy.objects.filter(organization_id=organization_id, is_active=True).prefetch_related("teams"):
        if not (policy.channel_kinds or policy.priorities or policy.contact_tiers or policy.teams.all()):
            return policy.first_response_minutes * 60
    return DEFAULT_TARGET_SECONDS


@dataclass(frozen=True)
class PlanInput:
    weeks: float = DEFAULT_WEEKS
    target_minutes: float | None = None
    share: float = DEFAULT_SHARE
    handle_minutes: float | None = None
    tz: ZoneInfo | None = None


def plan_from_database(
    organization_id: int,
    params: PlanInput,
    now: dt.datetime,
    verified: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The plan from the organisation's last `weeks` weeks; `verified`: replayed and raised
    in the simulator and backtested on the last week (`verified_plan`), unless there are
    more than VERIFY_LIMIT customer turns to replay."""
    if not 0 < params.weeks <= 52:
        raise ActionError(_("Weeks must be between 1 and 52."), "invalid_plan")
    tz = params.tz or ZoneInfo("Europe/Rome")
    start, end = database_window(now, params.weeks)
    handle, source = _handle(params, lambda: answered_handle_seconds(organization_id, start, end))
    target = params.target_minutes * 60 if params.target_minutes else organization_target_seconds(organization_id)
    open_all_hours = always_open(organization_id)

    def make(arrivals: Arrivals) -> dict[str, Any]:
        return staffing(arrivals, handle, target, params.share, source, always_open=open_all_hours)

    if not verified:
        return make(average_by_hour_of_week(customer_turns(organization_id, start, end), start, end, tz, "database"))
    first = start - HELD_OUT
    rows = database_arrivals(organization_id, first, end)
    if len(rows) > VERIFY_LIMIT or not rows:
        plan = make(average_by_hour_of_week([a.at for a in rows if a.at >= start], start, end, tz, "database"))
        if rows:
            plan["history"]["notes"].append(
                _("More than %(limit)s customer turns: verify this plan with `adesso plan` instead.")
                % {"limit": VERIFY_LIMIT}
            )
        return plan
    return verified_plan(rows, first, end, params.weeks, tz, "database", make, progress)


def database_arrivals(organization_id: int, start: dt.datetime, end: dt.datetime) -> list[Arrival]:
    """The customer turns in [start, end) as a trace for the simulator: each turn's first
    message, its channel and its contact (no words: the language is not simulated)."""
    from adesso.conversations.models import Direction, Message
    from adesso.reports.sql import Epoch, raw_rows
    from adesso.simulation.trace import Arrival

    rows = (
        Message.objects.filter(organization_id=organization_id, created_at__gte=start, created_at__lt=end)
        .order_by("conversation_id", "created_at", "pk")
        .values_list(
            "conversation_id",
            Epoch("created_at"),
            "direction",
            "internal",
            "auto",
            "channel_id",
            "conversation__contact_id",
        )
    )
    found: list[Arrival] = []
    current, waiting = None, False
    for pk, at, direction, internal, auto, channel_id, contact_id in raw_rows(rows):
        if pk != current:
            current, waiting = pk, False
        if direction == Direction.INCOMING:
            if not waiting:
                when = dt.datetime.fromtimestamp(at, dt.UTC)
                found.append(Arrival(when, f"c{channel_id}", f"p{contact_id}", "", len(found) + 1))
                waiting = True
        elif not internal and not auto:
            waiting = False
    found.sort(key=lambda a: a.at)
    return found


def answered_handle_seconds(organization_id: int, start: dt.datetime, end: dt.datetime) -> float | None:
    """The mean time the agents' answers took them (`Message.handle_seconds`, what the live
    estimate uses; each capped at 30 minutes), else the median gap between an agent's
    replies; None with fewer than MIN_GAPS of either."""
    from adesso.conversations.models import Message

    values = list(
        Message.objects.filter(
            organization_id=organization_id, created_at__gte=start, created_at__lt=end, handle_seconds__isnull=False
        ).values_list("handle_seconds", flat=True)
    )
    if len(values) >= MIN_GAPS:
        return sum(min(v or 0, MAX_GAP_SECONDS) for v in values) / len(values)
    return median_handle_seconds(reply_times(organization_id, start, end))


def always_open(organization_id: int) -> bool:
    """Whether the organisation's catch-all policy runs 24/7 (no business calendar)."""
    from adesso.sla.models import SlaPolicy

    for policy in SlaPolicy.objects.filter(organization_id=organization_id, is_active=True).prefetch_related("teams"):
        if not (policy.channel_kinds or policy.priorities or policy.contact_tiers or policy.teams.all()):
            return policy.calendar_id is None
    return True


def agents_answering(organization_id: int, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[int]:
    """Per hour of the week, the most agents who answered customers in one such hour of
    [start, end) (see `agents_at_work`, which adds who was online)."""
    rows = _agent_replies(organization_id, start, end).values_list("author_id", "created_at")
    by_hour: dict[dt.datetime, set[int]] = {}
    for author, at in rows:
        by_hour.setdefault(_hour_floor(at), set()).add(author)
    week = [0] * HOURS_OF_WEEK
    for hour, authors in by_hour.items():
        index = hour_of_week(hour, tz)
        week[index] = max(week[index], len(authors))
    return week


ONLINE_FOR_AN_HOUR = dt.timedelta(minutes=30)  # online this long in an hour: at work in it


def agents_online(organization_id: int, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[int]:
    """Per hour of the week, the most agents online for at least half of one such hour
    of [start, end), from the presence log (`accounts.PresenceChange`)."""
    from adesso.accounts.models import Presence, PresenceChange

    changes = PresenceChange.objects.filter(
        organization_id=organization_id, at__lt=end, at__gte=start - dt.timedelta(days=30)).order_by("user_id", "at")
    # Each agent's state at `start` (their last change before it), then the changes after.
    before = {row.user_id: row.presence for row in changes.filter(at__lt=start)}
    by_user: dict[int, list[tuple[dt.datetime, str]]] = {u: [(start, p)] for u, p in before.items()}
    for row in changes.filter(at__gte=start).values_list("user_id", "at", "presence"):
        by_user.setdefault(row[0], [(start, Presence.OFFLINE)]).append((row[1], row[2]))
    week_seconds: dict[tuple[int, dt.datetime], dt.timedelta] = {}
    for user, spans in by_user.items():
        for (since, presence), (until, _next) in zip(spans, [*spans[1:], (end, "")], strict=True):
            if presence != Presence.ONLINE:
                continue
            hour = _hour_floor(since)
            while hour < until:
                part = min(until, hour + dt.timedelta(hours=1)) - max(since, hour)
                key = (user, hour)
                week_seconds[key] = week_seconds.get(key, dt.timedelta()) + part
                hour += dt.timedelta(hours=1)
    online: dict[dt.datetime, int] = {}
    for (_user, hour), spent in week_seconds.items():
        if spent >= ONLINE_FOR_AN_HOUR:
            online[hour] = online.get(hour, 0) + 1
    week = [0] * HOURS_OF_WEEK
    for hour, count in online.items():
        index = hour_of_week(hour, tz)
        week[index] = max(week[index], count)
    return week


def agents_at_work(organization_id: int, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[int]:
    """Per hour of the week, the agents at work in [start, end): online for half the hour
    (presence log), or answering customers in it, whichever is more."""
    online = agents_online(organization_id, start, end, tz)
    answering = agents_answering(organization_id, start, end, tz)
    return [max(a, b) for a, b in zip(online, answering, strict=True)]


def estimate_accuracy(organization_id: int, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """How the acknowledgements' estimates in [start, end) compared with the waits that
    followed: estimates_compared, estimate_within_2x_share, estimate_ratio_median."""
    from adesso.routing.estimate import answered_acknowledgements
    from adesso.simulation.measures import accuracy, ratio

    acks = answered_acknowledgements(organization_id, start, end)
    return accuracy([ratio(a.estimate_seconds, a.actual_seconds) for a in acks])


def plan_from_trace(
    path: str | Path, params: PlanInput, verified: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    """The plan for a trace's last `weeks` weeks; `verified`: replayed and raised in the
    simulator, and backtested on the trace's last week (see `verified_plan`)."""
    from adesso.simulation import trace

    if not 0 < params.weeks <= 520:
        raise ActionError(_("Weeks must be more than 0."), "invalid_plan")
    tz = params.tz or ZoneInfo("Europe/Rome")
    try:
        rows = trace.read(trace.resolve(str(path)))
    except trace.TraceError as exc:
        raise ActionError(str(exc), "invalid_trace") from None
    end = _hour_floor(rows[-1].at) + dt.timedelta(hours=1)
    first = _hour_floor(rows[0].at)
    handle, source = _handle(params, lambda: None)
    target = params.target_minutes * 60 if params.target_minutes else DEFAULT_TARGET_SECONDS

    def make(arrivals: Arrivals) -> dict[str, Any]:
        return staffing(arrivals, handle, target, params.share, source)

    if not verified:
        start = max(first, end - dt.timedelta(weeks=params.weeks))
        return make(average_by_hour_of_week([a.at for a in rows], start, end, tz, "trace"))
    return verified_plan(rows, first, end, params.weeks, tz, "trace", make, progress)


def verified_plan(
    rows: list[Arrival],
    first: dt.datetime,
    end: dt.datetime,
    weeks: float,
    tz: ZoneInfo,
    source: str,
    make: Callable[[Arrivals], dict[str, Any]],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The plan from the `weeks` before `end`, replayed and raised until it meets the
    target on them (`verify`). Its share on a week it has not seen comes from a
    backtest: the same planning one week earlier (the `weeks` before the last week),
    replayed on the last week (`verification.held_out`)."""
    start = max(first, end - dt.timedelta(weeks=weeks))
    recent = [a for a in rows if start <= a.at < end]
    if not recent:
        raise ActionError(_("The trace has no rows in the chosen weeks."), "invalid_trace")
    plan = make(average_by_hour_of_week([a.at for a in recent], start, end, tz, source))
    verify(plan, recent, None, progress)
    before = end - HELD_OUT
    held_out = [a for a in rows if before <= a.at < end]
    past_start = max(first, before - dt.timedelta(weeks=weeks))
    past = [a for a in rows if past_start <= a.at < before]
    if before - first < HELD_OUT or not past or not held_out:
        plan["history"]["notes"].append(_("Less than two weeks of history: no week held out to check the plan on."))
        return plan
    backtest = make(average_by_hour_of_week([a.at for a in past], past_start, before, tz, source))

    def backtest_progress(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress("backtest" if stage == "verify" else stage, done, total)

    verify(backtest, past, held_out, backtest_progress)
    check = backtest["verification"]
    plan["verification"]["held_out"] = {
        **check["held_out"],
        "planned_from": backtest["from"],
        "planned_to": backtest["to"],
        "plan_agent_hours_per_week": backtest["agent_hours_per_week"],
        "plan_met_in_sample": check["met"],
    }
    return plan


def _handle(params: PlanInput, estimate: Any) -> tuple[float, str]:
    if params.handle_minutes is not None:
        if not params.handle_minutes > 0 or math.isinf(params.handle_minutes):
            raise ActionError(_("The handling time must be more than 0."), "invalid_plan")
        return params.handle_minutes * 60, "parameter"
    estimated = estimate()
    if estimated is not None:
        return estimated, "data"
    return DEFAULT_HANDLE_SECONDS, "default"
