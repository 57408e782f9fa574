"""Reports, the staffing planner and the digest preview: charts and tables."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from adesso.formats import day_month
from adesso.front.views.common import AgentRequest
from adesso.lib.charts import bar_chart, format_number, line_chart
from adesso.lib.errors import ActionError
from adesso.reports import planner, queries
from adesso.reports.digest import digest_context
from adesso.reports.display import figures_row
from adesso.reports.export import csv_response
from adesso.reports.periods import Period, parse_period, parse_timezone


def _period(request: AgentRequest) -> tuple[Period, str]:
    """The period asked for, or the default one with the reason the request's was refused."""
    try:
        return parse_period(request.GET.get("from"), request.GET.get("to")), ""
    except ActionError as exc:
        return parse_period(None, None), exc.message


def _by(request: AgentRequest) -> str:
    by = request.GET.get("by", "channel")
    return by if by in queries.GROUPINGS else "channel"


def _presets(today: dt.date) -> list[tuple[str, str, str]]:
    month_start = today.replace(day=1)
    last_month_end = month_start - dt.timedelta(days=1)
    return [
        (_("Yesterday"), (today - dt.timedelta(days=1)).isoformat(), (today - dt.timedelta(days=1)).isoformat()),
        (_("Last 7 days"), (today - dt.timedelta(days=6)).isoformat(), today.isoformat()),
        (_("Last 30 days"), (today - dt.timedelta(days=29)).isoformat(), today.isoformat()),
        (_("This month"), month_start.isoformat(), today.isoformat()),
        (_("Last month"), last_month_end.replace(day=1).isoformat(), last_month_end.isoformat()),
    ]


def _minutes(seconds: int | None) -> float:
    return float("nan") if seconds is None else round(seconds / 60, 1)


MAX_BACKLOG_POINTS = 14 * 24


def _peaks(values: list[int | None], block: int) -> list[float]:
    """The largest known value of each block of `block` values (NaN where none is known)."""
    out = []
    for i in range(0, len(values), block):
        known = [v for v in values[i : i + block] if v is not None]
        out.append(float(max(known)) if known else float("nan"))
    return out


def _conversations(n: float) -> str:
    return ngettext("%(n)s conversation", "%(n)s conversations", int(n)) % {"n": format_number(n)}


def _breaches(n: float) -> str:
    return ngettext("%(n)s breach", "%(n)s breaches", int(n)) % {"n": format_number(n)}


def _minutes_text(n: float) -> str:
    # A fraction ("1,5") takes the plural, in Italian as in English.
    return ngettext("%(n)s minute", "%(n)s minutes", int(n) if float(n).is_integer() else 2) % {
        "n": format_number(n)}


def _charts(data: dict[str, Any], period: Period) -> dict[str, Any]:
    groups = data["groups"]
    names = [g["name"] for g in groups]
    share = {_("Within target"): [
        float("nan") if g["within_target_share"] is None else round(g["within_target_share"] * 100, 1)
        for g in groups]}
    times = {
        _("p50"): [_minutes(g["first_response_p50_s"]) for g in groups],
        _("p90"): [_minutes(g["first_response_p90_s"]) for g in groups],
    }
    distribution = {g["name"]: g["distribution"] for g in groups}
    hours = [dt.datetime.fromisoformat(h) for h in data["backlog"]["hours"]]
    # Long periods: the peak of each block of hours, so the chart keeps ~2 weeks of points.
    block = max(1, math.ceil(len(hours) / MAX_BACKLOG_POINTS))
    hour_format = "H:i" if period.days == 1 else ("D j, H:i" if block == 1 else day_month())
    hour_labels = [date_format(h.astimezone(period.tz), hour_format) for h in hours[::block]]
    backlog = {s["name"]: _peaks(s["values"], block) for s in data["backlog"]["series"]}
    backlog_title = _("Backlog by hour") if block == 1 else _("Backlog: the peak of every %(hours)d hours") % {
        "hours": block}
    return {
        "share": bar_chart(names, share, title=_("Answered within target"), unit="%"),
        "times": bar_chart(names, times, title=_("First response time, p50 and p90"), unit=_("minutes"),
                           measure=_minutes_text),
        "distribution": bar_chart([b["label"] for b in data["buckets"]], distribution,
                                  title=_("First response time distribution"), unit=_("conversations"),
                                  x_label=_("time to first human answer"), count=_conversations),
        "breaches": bar_chart(names, {_("Breaches"): [g["breaches"] for g in groups]},
                              title=_("Service level breaches"), unit=_("breaches"),
                              count=_breaches),
        "backlog": line_chart(hour_labels, backlog, title=backlog_title, unit=_("waiting"), width=1120,
                              x_label=_("conversations waiting for a human answer at the start of each hour"),
                              count=_conversations),
    }


@login_required
def reports(request: AgentRequest) -> HttpResponse:
    period, error = _period(request)
    by = _by(request)
    data = queries.report(request.user, period, by)
    today = timezone.now().astimezone(period.tz).date()
    totals = figures_row(data["totals"])
    return render(request, "front/reports.html", {
        "rows": [*(figures_row(g) for g in data["groups"]), totals], "totals": totals,
        "nav": "reports", "data": data, "period": period, "by": by, "error": error,
        "groupings": [(key, str(label)) for key, label in queries.GROUPING_LABELS.items()],
        "presets": _presets(today), "charts": _charts(data, period),
        "grouping_label": queries.GROUPING_LABELS[by],
    })


@login_required
def reports_csv(request: AgentRequest) -> HttpResponse:
    period, _error = _period(request)
    data = queries.report(request.user, period, _by(request))
    return csv_response(data, "backlog" if request.GET.get("table") == "backlog" else "groups")


def _float(value: str | None, default: float | None) -> float | None:
    if value is None or not value.strip():
        return default
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise ActionError(_("%(value)r is not a number.") % {"value": value[:20]}, "invalid_plan") from None


@login_required
def staffing_planner(request: AgentRequest) -> HttpResponse:
    if not request.user.is_supervisor:
        raise PermissionDenied
    error = ""
    org_id = request.user.organization_id
    now = timezone.now()
    form = {k: request.GET.get(k, "") for k in ("weeks", "target_minutes", "share", "handle_minutes")}
    tz = parse_timezone(None)
    try:
        params = planner.PlanInput(
            weeks=_float(form["weeks"], planner.DEFAULT_WEEKS) or planner.DEFAULT_WEEKS,
            target_minutes=_float(form["target_minutes"], None),
            share=(_float(form["share"], planner.DEFAULT_SHARE * 100) or 0) / 100,
            handle_minutes=_float(form["handle_minutes"], None),
            tz=tz,
        )
        plan = planner.plan_from_database(org_id, params, now, verified=True)
    except ActionError as exc:
        error = exc.message
        plan = planner.plan_from_database(org_id, planner.PlanInput(tz=tz), now, verified=True)
    end = planner.database_window(now, 1)[1]
    last_week = planner.agents_at_work(org_id, end - planner.HELD_OUT, end, tz)
    accuracy = planner.estimate_accuracy(org_id, end - dt.timedelta(weeks=4), end)
    monday = dt.date(2024, 1, 1)  # any Monday: only the weekday's name is shown
    day_names = [date_format(monday + dt.timedelta(days=d), "D") for d in range(7)]
    labels = [f"{day_names[h['weekday']]} {h['hour']:02d}:00" for h in plan["hours"]]
    chart_arrivals = line_chart(
        labels,
        {
            _("Customer turns per hour, average"): [h["arrivals_per_hour"] for h in plan["hours"]],
            _("Planned for (busy weeks)"): [h["arrivals_planned"] for h in plan["hours"]],
        },
        title=_("Arrivals by hour of the week"), unit=_("per hour"), width=1120,
    )
    chart_agents = bar_chart(
        labels,
        {
            _("Agents planned"): [h["agents"] for h in plan["hours"]],
            _("Agents at work last week"): [float(n) for n in last_week],
        },
        title=_("Agents planned and at work last week, by hour of the week"), unit=_("agents"), width=1120,
        count=lambda n: ngettext("%(n)s agent", "%(n)s agents", int(n)) % {"n": format_number(n)},
    )
    grid = [[{**plan["hours"][d * 24 + hour], "last_week": last_week[d * 24 + hour]} for d in range(7)]
            for hour in range(24)]
    peak = max(plan["max_agents"], 1)
    for row in grid:
        for cell in row:
            cell["level"] = 0 if not cell["agents"] else min(3, 1 + (3 * cell["agents"] - 1) // peak)
            cell["short"] = cell["last_week"] < cell["agents"]
            share = cell["expected_share"]
            cell["share_percent"] = None if share is None else math.floor(share * 100)
    check = plan["verification"]
    return render(request, "front/planner.html", {
        "nav": "planner", "plan": plan, "grid": grid, "day_names": day_names, "error": error, "form": form,
        "chart_arrivals": chart_arrivals, "chart_agents": chart_agents,
        "share_percent": round(plan["share"] * 100, 1), "target_minutes": plan["target_seconds"] / 60,
        "handle_minutes": round(plan["handle_seconds"] / 60, 1), "check": check,
        "in_sample": _percent(check and check["in_sample"] and check["in_sample"]["within_target_share"]),
        "held_out": _percent(check and check["held_out"] and check["held_out"]["within_target_share"]),
        "last_week_hours": sum(last_week), "short_hours": sum(1 for row in grid for c in row if c["short"]),
        "accuracy": accuracy, "accuracy_percent": _percent(accuracy["estimate_within_2x_share"]),
    })


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


@login_required
def digest_preview(request: AgentRequest) -> HttpResponse:
    """The daily digest as the logged-in supervisor would receive it today."""
    if not request.user.is_supervisor:
        raise PermissionDenied
    context = digest_context(request.user, timezone.now())
    return render(request, "front/reports_digest.html", {"nav": "reports", **context})
