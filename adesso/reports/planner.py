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
   week on its own (Poisson arrivals at that hour's average rate, exponential
   handling times). An hour with any arrivals gets at least one agent.

Pure functions on lists of times, plus two readers (database, trace file).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from adesso.lib.erlang import agents_needed, offered_load
from adesso.lib.errors import ActionError

HOURS_OF_WEEK = 168
DEFAULT_WEEKS = 4
DEFAULT_SHARE = 0.95
DEFAULT_TARGET_SECONDS = 3600
DEFAULT_HANDLE_SECONDS = 360  # as `adesso simulate`'s default handling time
MAX_GAP_SECONDS = 30 * 60
MIN_GAPS = 20


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

    @property
    def weeks(self) -> float:
        return (self.end - self.start).total_seconds() / (7 * 86400)


def average_by_hour_of_week(times: Iterable[dt.datetime], start: dt.datetime, end: dt.datetime,
                            tz: ZoneInfo, source: str) -> Arrivals:
    """Arrivals in [start, end) counted per hour of the week, divided by how many times
    that hour of the week occurs in the window (so a partial week is not diluted)."""
    counts = [0] * HOURS_OF_WEEK
    turns = 0
    for t in times:
        if start <= t < end:
            counts[hour_of_week(t, tz)] += 1
            turns += 1
    seen = [0] * HOURS_OF_WEEK
    hour = _hour_floor(start)
    while hour < end:
        seen[hour_of_week(hour, tz)] += 1
        hour += dt.timedelta(hours=1)
    per_hour = [counts[i] / seen[i] if seen[i] else 0.0 for i in range(HOURS_OF_WEEK)]
    return Arrivals(per_hour, start, end, turns, source, tz)


def staffing(arrivals: Arrivals, handle_seconds: float, target_seconds: float, share: float,
             handle_source: str = "parameter") -> dict[str, Any]:
    """The plan, as the JSON `adesso plan --json` prints and the API returns.

    Keys (stable: `adesso simulate` reads them): hours (168 items, Monday 00:00
    first, each {weekday (0 = Monday), hour, arrivals_per_hour, load_erlangs,
    agents}), max_agents, agent_hours_per_week, handle_seconds, handle_source,
    target_seconds, share, weeks, timezone, source, from, to, customer_turns.
    """
    if not handle_seconds > 0 or math.isinf(handle_seconds):
        raise ActionError(_("The handling time must be more than 0."), "invalid_plan")
    if not target_seconds > 0 or math.isinf(target_seconds):
        raise ActionError(_("The target must be more than 0."), "invalid_plan")
    if not 0 < share < 1:
        raise ActionError(_("The share must be between 0 and 1 (e.g. 0.95)."), "invalid_plan")
    hours = []
    for i, rate in enumerate(arrivals.per_hour):
        try:
            agents = agents_needed(rate, handle_seconds, target_seconds, share) if rate > 0 else 0
        except ValueError:
            raise ActionError(_("The target cannot be met at %(rate)s arrivals per hour.") % {"rate": round(rate, 1)},
                              "invalid_plan") from None
        hours.append({
            "weekday": i // 24,
            "hour": i % 24,
            "arrivals_per_hour": round(rate, 3),
            "load_erlangs": round(offered_load(rate, handle_seconds), 3),
            "agents": agents,
        })
    return {
        "hours": hours,
        "max_agents": max((h["agents"] for h in hours), default=0),
        "agent_hours_per_week": sum(h["agents"] for h in hours),
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


def reply_times(organization_id: int, start: dt.datetime, end: dt.datetime) -> dict[Any, list[float]]:
    from adesso.conversations.models import Direction, Message
    from adesso.reports.sql import Epoch, raw_rows

    rows = Message.objects.filter(
        organization_id=organization_id, created_at__gte=start, created_at__lt=end,
        direction=Direction.OUTGOING, internal=False, auto=False, author__isnull=False,
    ).values_list("author_id", Epoch("created_at"))
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


def plan_from_database(organization_id: int, params: PlanInput, now: dt.datetime) -> dict[str, Any]:
    if not 0 < params.weeks <= 52:
        raise ActionError(_("Weeks must be between 1 and 52."), "invalid_plan")
    tz = params.tz or ZoneInfo("Europe/Rome")
    start, end = database_window(now, params.weeks)
    arrivals = average_by_hour_of_week(customer_turns(organization_id, start, end), start, end, tz, "database")
    handle, source = _handle(params, lambda: median_handle_seconds(reply_times(organization_id, start, end)))
    target = params.target_minutes * 60 if params.target_minutes else organization_target_seconds(organization_id)
    return staffing(arrivals, handle, target, params.share, source)


def plan_from_trace(path: str | Path, params: PlanInput) -> dict[str, Any]:
    if not 0 < params.weeks <= 520:
        raise ActionError(_("Weeks must be more than 0."), "invalid_plan")
    arrivals = trace_arrivals(path, params.weeks, params.tz or ZoneInfo("Europe/Rome"))
    handle, source = _handle(params, lambda: None)
    target = params.target_minutes * 60 if params.target_minutes else DEFAULT_TARGET_SECONDS
    return staffing(arrivals, handle, target, params.share, source)


def _handle(params: PlanInput, estimate: Any) -> tuple[float, str]:
    if params.handle_minutes is not None:
        if not params.handle_minutes > 0 or math.isinf(params.handle_minutes):
            raise ActionError(_("The handling time must be more than 0."), "invalid_plan")
        return params.handle_minutes * 60, "parameter"
    estimated = estimate()
    if estimated is not None:
        return estimated, "data"
    return DEFAULT_HANDLE_SECONDS, "default"
