"""Coaching statistics for supervisors: how often each pattern appears in sent replies,
per day or week, for the organisation, an agent or a team. Grouped in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncWeek
from django.utils import timezone

from adesso.accounts.access import access_agent_by_code, access_team_by_code
from adesso.accounts.models import TeamMembership, User
from adesso.coach.models import CoachDismissal, CoachFinding, CoachRecord


def _periods(start: dt.datetime, end: dt.datetime, bucket: str) -> list[dt.date]:
    day = timezone.localtime(start).date()
    if bucket == "week":
        day -= dt.timedelta(days=day.weekday())
    step = dt.timedelta(days=7 if bucket == "week" else 1)
    last = timezone.localtime(end).date()
    out = []
    while day <= last:
        out.append(day)
        day += step
    return out


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value  # type: ignore[no-any-return]


def coaching_stats(user: User, days: int = 56, bucket: str = "week", agent_code: str | None = None,
                   team_code: str | None = None) -> dict[str, Any]:
    end = timezone.now()
    start = end - dt.timedelta(days=days)
    scope = Q(organization_id=user.organization_id, created_at__gte=start)
    title = ""
    if agent_code:
        agent = access_agent_by_code(user, agent_code)
        scope &= Q(agent=agent)
        title = agent.display_name
    elif team_code:
        team = access_team_by_code(user, team_code)
        scope &= Q(agent_id__in=TeamMembership.objects.filter(team=team).values("user_id"))
        title = team.name
    trunc = TruncWeek if bucket == "week" else TruncDay
    periods = _periods(start, end, bucket)
    index = {p: i for i, p in enumerate(periods)}

    def series(qs: QuerySet[Any], key: str | None) -> dict[str, list[int]]:
        fields = ["period", key] if key else ["period"]
        rows = qs.annotate(period=trunc("created_at")).values(*fields).annotate(n=Count("id"))
        out: dict[str, list[int]] = {}
        for row in rows:
            i = index.get(_as_date(row["period"]))
            if i is not None:
                out.setdefault(row[key] if key else "all", [0] * len(periods))[i] += row["n"]
        return out

    replies = series(CoachRecord.objects.filter(scope), None).get("all", [0] * len(periods))
    patterns = series(CoachFinding.objects.filter(scope), "pattern")
    by_agent = {
        row["agent_id"]: row
        for row in CoachRecord.objects.filter(scope).values("agent_id").annotate(
            replies=Count("id", distinct=True), found=Count("findings"),
            serious=Count("id", filter=Q(serious__gt=0), distinct=True))
    }
    names = {u.pk: u for u in User.objects.filter(organization_id=user.organization_id, pk__in=list(by_agent))}
    agents = []
    for agent_id, row in by_agent.items():
        person = names.get(agent_id)
        agents.append({
            "code": person.code if person else "", "name": person.display_name if person else "?",
            "replies": row["replies"], "findings": row["found"], "with_serious": row["serious"],
            "per_100": round(100 * row["found"] / row["replies"], 1) if row["replies"] else 0.0,
        })
    agents.sort(key=lambda a: -a["per_100"])
    totals = {p: sum(v) for p, v in patterns.items()}
    dismissed = {
        row["pattern"]: row["n"]
        for row in CoachDismissal.objects.filter(scope).values("pattern").annotate(n=Count("id")).order_by("-n")
    }
    return {
        "title": title,
        "bucket": bucket,
        "periods": [p.isoformat() for p in periods],
        "replies": replies,
        "patterns": dict(sorted(patterns.items(), key=lambda kv: -totals[kv[0]])),
        "totals": totals,
        "agents": agents,
        # findings agents marked as not applicable, per rule
        "dismissals": dismissed,
    }
