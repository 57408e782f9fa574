"""Report figures for an organisation and a period, grouped by channel, channel kind,
team or agent.

- First response: for conversations started in the period, the time from the
  start to the first human answer (`first_response_at`); its distribution in
  buckets, p50, p90 and max.
- Within target: answered at or before `first_response_due_at` (which already
  leaves out time the conversation was pending); 60 minutes when no policy
  applied. The share counts answered conversations and those still unanswered
  past their due time; unanswered ones not yet due are left out (not yet known).
- Breaches: `sla_breached` events recorded in the period (any clock).
- Backlog by hour: how many conversations were waiting for a human answer at the
  start of each local hour, derived from the messages: a customer's message starts
  a wait, the next public, human (not automatic) reply ends it.

Conversations are grouped by their current channel, team and assignee (a reply
assigns an unassigned conversation to the replier, so the assignee is usually who
answered first). Agents (role agent) see only the conversations assigned to them;
supervisors and admins see the whole organisation.

Every figure comes from a few queries whose rows are plain numbers (epoch seconds,
ids), grouped in Python: the same code is exact on SQLite and PostgreSQL.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from adesso.accounts.models import Team, User
from adesso.channels.models import Channel
from adesso.conversations.access import conversations_for
from adesso.conversations.models import Conversation, ConversationEvent, Direction, EventKind, Message
from adesso.reports.periods import Period
from adesso.reports.sql import Epoch, raw_rows

DEFAULT_TARGET_SECONDS = 3600

# Upper bounds (seconds, included) of the first-response buckets, and their labels.
BUCKETS: list[tuple[float, Any]] = [
    (300, gettext_lazy("≤ 5 min")),
    (900, gettext_lazy("5-15 min")),
    (1800, gettext_lazy("15-30 min")),
    (3600, gettext_lazy("30-60 min")),
    (7200, gettext_lazy("1-2 h")),
    (14400, gettext_lazy("2-4 h")),
    (86400, gettext_lazy("4-24 h")),
    (math.inf, gettext_lazy("> 24 h")),
]
_BOUNDS = [b for b, _label in BUCKETS]

# How each grouping reads its key from a conversation, and from a row joined to one.
GROUPINGS: dict[str, str] = {
    "channel": "channel_id",
    "kind": "channel__kind",
    "team": "team_id",
    "agent": "assignee_id",
}
GROUPING_LABELS = {
    "channel": gettext_lazy("Channel"),
    "kind": gettext_lazy("Channel kind"),
    "team": gettext_lazy("Team"),
    "agent": gettext_lazy("Agent"),
}


def scope(user: User) -> QuerySet[Conversation]:
    """The conversations whose figures `user` may see."""
    qs = conversations_for(user)
    if not user.is_supervisor:
        qs = qs.filter(assignee=user)
    return qs


def percentile(sorted_values: list[float], share: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Figures:
    key: str
    name: str
    conversations: int = 0
    answered: int = 0
    within_target: int = 0
    missed: int = 0  # answered late, or unanswered past the due time
    waiting_in_time: int = 0  # unanswered, not yet due
    breaches: int = 0
    distribution: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    times: list[float] = field(default_factory=list)

    def add(self, created: float, first_response: float | None, due: float | None, now: float) -> None:
        self.conversations += 1
        due = due if due is not None else created + DEFAULT_TARGET_SECONDS
        if first_response is None:
            if due < now:
                self.missed += 1
            else:
                self.waiting_in_time += 1
            return
        seconds = max(0.0, first_response - created)
        self.answered += 1
        self.times.append(seconds)
        self.distribution[bisect.bisect_left(_BOUNDS, seconds)] += 1
        if first_response <= due:
            self.within_target += 1
        else:
            self.missed += 1

    @property
    def within_target_share(self) -> float | None:
        known = self.within_target + self.missed
        return self.within_target / known if known else None

    def as_dict(self) -> dict[str, Any]:
        times = sorted(self.times)
        share = self.within_target_share
        return {
            "key": self.key,
            "name": self.name,
            "conversations": self.conversations,
            "answered": self.answered,
            "within_target": self.within_target,
            "missed": self.missed,
            "waiting_in_time": self.waiting_in_time,
            "within_target_share": round(share, 4) if share is not None else None,
            "breaches": self.breaches,
            "first_response_p50_s": _seconds(percentile(times, 0.5)),
            "first_response_p90_s": _seconds(percentile(times, 0.9)),
            "first_response_max_s": _seconds(times[-1] if times else None),
            "distribution": list(self.distribution),
        }


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def _names(user: User, by: str, keys: set[Any]) -> dict[Any, tuple[str, str]]:
    """Public key and display name of each group key (ids are never shown)."""
    org = user.organization_id
    ids = [k for k in keys if k is not None]
    out: dict[Any, tuple[str, str]] = {}
    if by == "channel":
        for pk, code, name in Channel.objects.filter(organization_id=org, pk__in=ids).values_list("pk", "code", "name"):
            out[pk] = (code, name)
    elif by == "team":
        for pk, code, name in Team.objects.filter(organization_id=org, pk__in=ids).values_list("pk", "code", "name"):
            out[pk] = (code, name)
        out[None] = ("", _("No team"))
    elif by == "agent":
        for agent in User.objects.filter(organization_id=org, pk__in=ids).only("code", "name", "email"):
            out[agent.pk] = (agent.code, agent.display_name)
        out[None] = ("", _("Unassigned"))
    else:
        from adesso.channels.registry import get_kind

        for kind in ids:
            try:
                out[kind] = (kind, str(get_kind(kind).label))
            except KeyError:
                out[kind] = (kind, kind)
    return out


def _breaches(user: User, period: Period, column: str) -> dict[Any, int]:
    events = ConversationEvent.objects.filter(
        organization_id=user.organization_id, kind=EventKind.SLA_BREACHED,
        created_at__gte=period.start, created_at__lt=period.end,
    )
    if not user.is_supervisor:
        events = events.filter(conversation__assignee=user)
    rows = events.values(f"conversation__{column}").annotate(n=Count("id")).values_list(
        f"conversation__{column}", "n")
    return dict(rows)


def first_responses(user: User, period: Period, by: str, now: dt.datetime) -> tuple[Figures, list[Figures]]:
    """Totals and per-group figures (see the module's docstring)."""
    column = GROUPINGS[by]
    rows = (
        scope(user)
        # updated_at >= created_at: the redundant bound lets the (organization,
        # updated_at) index narrow the scan (there is no index on created_at).
        .filter(created_at__gte=period.start, created_at__lt=period.end, updated_at__gte=period.start)
        .values_list(column, Epoch("created_at"), Epoch("first_response_at"), Epoch("first_response_due_at"))
    )
    now_s = now.timestamp()
    totals = Figures("", _("All"))
    groups: dict[Any, Figures] = {}
    for key, created, first, due in raw_rows(rows):
        if key not in groups:
            groups[key] = Figures("", "")
        groups[key].add(created, first, due, now_s)
        totals.add(created, first, due, now_s)
    for key, n in _breaches(user, period, column).items():
        groups.setdefault(key, Figures("", "")).breaches = n
        totals.breaches += n
    names = _names(user, by, set(groups))
    for key, figures in groups.items():
        figures.key, figures.name = names.get(key, (str(key or ""), str(key or "-")))
    ordered = sorted(groups.values(), key=lambda f: (f.key == "", f.name.lower()))
    return totals, ordered


def _waits(user: User, period: Period, column: str, now_s: float) -> dict[Any, list[tuple[float, float]]]:
    """Each group's waits (start, end) overlapping the period; end is inf while still waiting."""
    start_s, end_s = period.start.timestamp(), period.end.timestamp()
    # A wait overlapping the period belongs to a conversation touched since its start
    # (updated_at moves with every message), or to one still waiting now.
    convs = scope(user).filter(created_at__lt=period.end).filter(
        Q(updated_at__gte=period.start) | Q(waiting_since__isnull=False))
    info = {
        pk: (key, waiting is not None, updated)
        for pk, key, waiting, updated in raw_rows(
            convs.values_list("pk", column, Epoch("waiting_since"), Epoch("updated_at")))
    }
    messages = (
        # Scoped through the conversations (no organization_id here: on PostgreSQL it
        # invites a bitmap AND with the organisation's whole index of messages).
        Message.objects.filter(conversation__in=convs.values("pk"), created_at__lt=period.end)
        .order_by("conversation_id", "created_at", "pk")
        .values_list("conversation_id", Epoch("created_at"), "direction", "internal", "auto")
    )
    waits: dict[Any, list[tuple[float, float]]] = defaultdict(list)

    def close(pk: int, began: float, ended: float) -> None:
        if ended > start_s and began < end_s and pk in info:
            waits[info[pk][0]].append((began, ended))

    current: int | None = None
    began: float | None = None
    for pk, at, direction, internal, auto in raw_rows(messages):
        if pk != current:
            if current is not None and began is not None:
                close(current, began, _open_wait_end(info.get(current)))
            current, began = pk, None
        if direction == Direction.INCOMING:
            if began is None:
                began = at
        elif not internal and not auto and began is not None:
            close(pk, began, at)
            began = None
    if current is not None and began is not None:
        close(current, began, _open_wait_end(info.get(current)))
    return waits


def _open_wait_end(conv: tuple[Any, bool, float] | None) -> float:
    """When a wait with no reply before the period's end ended: never yet, if the customer
    is still waiting; else (answered after the period, or resolved with a recorded
    reason) at the conversation's last update, which is at or after that moment."""
    if conv is None or conv[1]:
        return math.inf
    return conv[2]


Counts = list[int | None]


def backlog(
    user: User, period: Period, by: str, now: dt.datetime
) -> tuple[list[dt.datetime], dict[Any, Counts], Counts]:
    """Hour starts, and per group (and in all) the conversations waiting at each; None in the future."""
    hours = period.hours()
    now_s = now.timestamp()
    waits = _waits(user, period, GROUPINGS[by], now_s)

    def counts(intervals: list[tuple[float, float]]) -> list[int | None]:
        starts = sorted(a for a, _b in intervals)
        ends = sorted(b for _a, b in intervals)
        out: list[int | None] = []
        for hour in hours:
            t = hour.timestamp()
            if t > now_s:
                out.append(None)
            else:
                out.append(bisect.bisect_right(starts, t) - bisect.bisect_right(ends, t))
        return out

    per_group = {key: counts(intervals) for key, intervals in waits.items()}
    total = counts([w for intervals in waits.values() for w in intervals])
    return hours, per_group, total


def tag_counts(user: User, period: Period) -> list[dict[str, Any]]:
    """Conversations started in the period, per tag (one may count under several), with
    how many of them are not resolved yet; most used first."""
    rows = (
        scope(user)
        .filter(created_at__gte=period.start, created_at__lt=period.end, tags__isnull=False)
        .values("tags__name")
        .annotate(conversations=Count("pk"), unresolved=Count("pk", filter=~Q(status="resolved")))
        .order_by("-conversations", "tags__name")
    )
    return [{"tag": r["tags__name"], "conversations": r["conversations"], "unresolved": r["unresolved"]}
            for r in rows]


def report(user: User, period: Period, by: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """The whole report as plain data: what the API returns as JSON and the page renders."""
    if by not in GROUPINGS:
        raise ValueError(by)
    now = now or timezone.now()
    totals, groups = first_responses(user, period, by, now)
    hours, per_group, total = backlog(user, period, by, now)
    names = _names(user, by, set(per_group))
    series = [
        {"key": names.get(k, ("", ""))[0], "name": names.get(k, ("", str(k)))[1], "values": values}
        for k, values in per_group.items()
    ]
    series.sort(key=lambda s: (s["key"] == "", str(s["name"]).lower()))
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "timezone": str(period.tz),
        "by": by,
        "scope": "organization" if user.is_supervisor else "own",
        "buckets": [
            {"label": str(label), "up_to_seconds": None if math.isinf(bound) else int(bound)}
            for bound, label in BUCKETS
        ],
        "totals": totals.as_dict(),
        "groups": [g.as_dict() for g in groups],
        "backlog": {
            "hours": [h.isoformat() for h in hours],
            "total": total,
            "series": series,
        },
        "tags": tag_counts(user, period),
    }
