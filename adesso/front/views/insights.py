"""The insights pages (supervisors and admins): the report with charts, the business
processes' settings and the survey settings."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from adesso.accounts.access import supervisor_only
from adesso.accounts.models import User
from adesso.formats import day_month
from adesso.front.views.common import AgentRequest, agents_of, channels_of, teams_of
from adesso.front.views.reports import _presets
from adesso.insights import processes as proc
from adesso.insights import report
from adesso.insights.access import access_topic_by_code
from adesso.insights.models import Polarity, Process, Topic
from adesso.insights.schedule import latest_runs
from adesso.insights.survey_settings import do_save_survey_settings
from adesso.lib.charts import bar_chart, format_number, line_chart
from adesso.lib.errors import ActionError
from adesso.reports.periods import Period, parse_period
from adesso.surveys.models import Kind, SurveySettings
from adesso.surveys.report import response_rates

MAX_TOPICS_IN_CHART = 12
RATES_DAYS = 30  # the survey settings page shows each channel's response rate over these days


def _window(request: AgentRequest) -> tuple[Period, report.Window, str]:
    error = ""
    try:
        period = parse_period(request.GET.get("from"), request.GET.get("to"))
    except ActionError as exc:
        period, error = parse_period(None, None), exc.message
    channel, team = report.filters_for(
        request.user.organization_id, request.GET.get("channel") or None, request.GET.get("team") or None
    )
    return period, report.Window(period.start, period.end, period.tz, channel, team), error


# The heatmap's columns: (figure, title, +1 when more is better, -1 when less is).
def _metrics() -> list[tuple[str, str, int]]:
    return [
        ("conversations", _("Conversations"), 0),
        ("csat_mean", _("CSAT (1-5)"), 1),
        ("csat_satisfied_share", _("Satisfied"), 1),
        ("first_response_p50_s", _("First response p50"), -1),
        ("first_response_p90_s", _("First response p90"), -1),
        ("reopen_rate", _("Reopened per 100"), -1),
        ("transfer_rate", _("Transferred per 100"), -1),
        ("negative_share", _("Negative messages"), -1),
    ]


def _values(figures: dict[str, Any]) -> dict[str, float | None]:
    n = figures["conversations"]
    return {
        "conversations": n,
        "csat_mean": figures["csat_mean"],
        "csat_satisfied_share": figures["csat_satisfied_share"],
        "first_response_p50_s": figures["first_response_p50_s"],
        "first_response_p90_s": figures["first_response_p90_s"],
        "reopen_rate": round(100 * figures["reopenings"] / n, 1) if n else None,
        "transfer_rate": round(100 * figures["transfers"] / n, 1) if n else None,
        "negative_share": figures["sentiment"]["negative"],
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        minutes = round(seconds / 60, 1)
        return ngettext("%(n)s minute", "%(n)s minutes", 1 if minutes == 1 else 2) % {"n": format_number(minutes)}
    hours = round(seconds / 3600, 1)
    return ngettext("%(n)s hour", "%(n)s hours", 1 if hours == 1 else 2) % {"n": format_number(hours)}


def _share(value: float) -> str:
    return f"{format_number(round(value * 100))}%"


def _text(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if key in ("csat_satisfied_share", "negative_share"):
        return _share(value)
    if key.startswith("first_response"):
        return _duration(value)
    if key == "csat_mean":
        return format_number(value, 2)
    return format_number(value)


def _level(value: float | None, reference: float | None, direction: int, largest: float) -> str:
    """A cell's colour: how much better or worse than the whole organisation (volume:
    its size beside the largest process)."""
    if value is None:
        return "heat-none"
    if direction == 0:
        return f"heat-vol-{min(3, math.ceil(3 * value / largest)) if largest and value else 0}"
    if reference is None:
        return "heat-mid"
    change = (value - reference) / reference if reference else (value - reference)
    good = direction * change
    if good <= -0.25:
        return "heat-bad-2"
    if good <= -0.08:
        return "heat-bad-1"
    if good >= 0.25:
        return "heat-good-2"
    if good >= 0.08:
        return "heat-good-1"
    return "heat-mid"


def heatmap(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Processes by metrics: each cell's text and colour class."""
    reference = _values(data["totals"])
    largest = max([p["figures"]["conversations"] for p in data["processes"]] or [0])
    rows = []
    for p in data["processes"]:
        values = _values(p["figures"])
        rows.append(
            {
                "name": p["name"],
                "code": p["code"],
                "cells": [
                    {
                        "text": _text(key, values[key]),
                        "level": _level(values[key], reference[key], direction, largest),
                        "title": title,
                    }
                    for key, title, direction in _metrics()
                ],
            }
        )
    return rows


def _nan(values: list[float | None]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _charts(csat: dict[str, Any], topics: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    days = [dt.date.fromisoformat(d) for d in csat["days"]]
    labels = [date_format(d, day_month()) for d in days]
    series = {s["name"]: _nan(s["values"]) for s in csat["series"]}
    title = _("CSAT per channel, week by week") if csat["weekly"] else _("CSAT per channel, day by day")
    shown = [t for t in topics if t["messages"]][:MAX_TOPICS_IN_CHART]
    criticism, praise = str(Polarity.NEGATIVE.label), str(Polarity.POSITIVE.label)
    return {
        "csat": line_chart(labels, series, title=title, unit=_("mean score, 1-5"), width=1120, axis=(1, 5, 1)),
        "topics": bar_chart(
            [t["name"] for t in shown],
            {
                criticism: [float(t["messages"]) if t["polarity"] == Polarity.NEGATIVE else math.nan for t in shown],
                praise: [float(t["messages"]) if t["polarity"] == Polarity.POSITIVE else math.nan for t in shown],
            },
            title=_("Topics of criticism and praise"),
            unit=_("conversations"),
            stacked=True,
            width=1120,
            count=lambda n: ngettext("%(n)s conversation", "%(n)s conversations", int(n)) % {"n": format_number(n)},
        ),
    }


def _rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The process table: each process's figures as text, with its trend."""
    out = []
    for p in data["processes"]:
        f, before = p["figures"], p["previous"]
        out.append(
            {
                **p,
                "csat_text": _text("csat_mean", f["csat_mean"]),
                "satisfied_text": _text("csat_satisfied_share", f["csat_satisfied_share"]),
                "p50_text": _text("first_response_p50_s", f["first_response_p50_s"]),
                "p90_text": _text("first_response_p90_s", f["first_response_p90_s"]),
                "negative_text": _text("negative_share", f["sentiment"]["negative"]),
                "positive_text": _text("negative_share", f["sentiment"]["positive"]),
                "before_csat_text": _text("csat_mean", before["csat_mean"]),
                "volume_change": f["conversations"] - before["conversations"],
            }
        )
    return out


@login_required
@supervisor_only
def insights_report(request: AgentRequest) -> HttpResponse:
    """Processes and topics: the figures, charts, criticisms and praises with quotes."""
    period, window, error = _window(request)
    org_id = request.user.organization_id
    data = report.process_report(org_id, window)
    topics = report.topics(org_id, window, with_quotes=False)
    csat = report.csat_over_time(org_id, window)
    runs = latest_runs(org_id)
    today = timezone.now().astimezone(period.tz).date()
    return render(
        request,
        "front/insights_report.html",
        {
            "nav": "insights",
            "data": data,
            "period": period,
            "error": error,
            "channel": window.channel,
            "team": window.team,
            "channels": channels_of(request.user),
            "teams": teams_of(request.user),
            "presets": _presets(today),
            "charts": _charts(csat, topics, period),
            "heatmap": heatmap(data),
            "metrics": [title for _key, title, _d in _metrics()],
            "rows": _rows(data),
            "totals": _values(data["totals"]),
            "totals_text": {k: _text(k, v) for k, v in _values(data["totals"]).items()},
            "runs": runs,
            "topic_run": runs.get("topics"),
            "analysis_run": runs.get("analysis"),
            "unmapped": data["unmapped"],
        },
    )


@login_required
@supervisor_only
def insights_report_csv(request: AgentRequest) -> HttpResponse:
    _period, window, _error = _window(request)
    return report.csv_download(report.process_report(request.user.organization_id, window))


def _agent(user: User, code: str) -> User | None:
    if not code:
        return None
    found = User.objects.filter(organization_id=user.organization_id, code=code, is_active=True).first()
    if found is None:
        raise ActionError(_("The owner must be an active member of the organisation."), "bad_owner")
    return found


def _process(user: User, code: str) -> Process:
    found = Process.objects.filter(organization_id=user.organization_id, code=code).first()
    if found is None:
        raise Http404("No such process")
    return found


@login_required
@supervisor_only
def process_settings(request: AgentRequest) -> HttpResponse:
    """The business processes: list, create, rename, owner, delete; topics mapped to them."""
    user = request.user
    error, status = "", 200
    if request.method == "POST":
        post = request.POST
        action = post.get("action", "")
        try:
            if action == "create":
                proc.do_create_process(
                    user, post.get("name", ""), post.get("description", ""), _agent(user, post.get("owner", ""))
                )
                messages.success(request, _("Process added."))
            elif action == "update":
                proc.do_update_process(
                    user,
                    _process(user, post.get("process", "")),
                    name=post.get("name"),
                    description=post.get("description"),
                    owner=_agent(user, post.get("owner", "")),
                    set_owner="owner" in post,
                )
                messages.success(request, _("Saved."))
            elif action == "delete":
                proc.do_delete_process(user, _process(user, post.get("process", "")))
                messages.success(request, _("Process deleted."))
            elif action == "map":
                topic = access_topic_by_code(user, post.get("topic", ""))
                code = post.get("process", "")
                proc.do_map_topic(user, topic, _process(user, code) if code else None)
                messages.success(request, _("Saved."))
            else:
                raise ActionError(_("Unknown action."), "bad_action")
            return HttpResponseRedirect(reverse("front:insights_processes"))
        except ActionError as exc:
            error, status = exc.message, 400
    processes = proc.processes_of(user.organization_id)
    topics = list(
        Topic.objects.filter(organization_id=user.organization_id, merged_into__isnull=True)
        .select_related("process")
        .order_by("-active", "polarity", "name")
    )
    return render(
        request,
        "front/insights_processes.html",
        {
            "nav": "insights",
            "error": error,
            "processes": [
                {"process": p, "name": proc.display_name(p), "description": proc.display_description(p)}
                for p in processes
            ],
            "topics": topics,
            "agents": agents_of(user),
        },
        status=status,
    )


@login_required
@supervisor_only
def survey_settings(request: AgentRequest) -> HttpResponse:
    """Surveys per organisation (the default) and per channel: kind, on or off, days
    between two surveys to the same contact."""
    user = request.user
    channels = channels_of(user)
    error, status = "", 200
    if request.method == "POST":
        post = request.POST
        code = post.get("channel", "")
        channel = next((c for c in channels if c.code == code), None)
        try:
            if code and channel is None:
                raise Http404("No such channel")
            try:
                interval = int(post.get("interval_days", "30"))
            except ValueError:
                raise ActionError(_("The days between surveys go from 0 to 365."), "bad_interval") from None
            do_save_survey_settings(
                user,
                channel,
                enabled=post.get("enabled") == "on",
                kind=post.get("kind", ""),
                interval_days=interval,
                inherit=post.get("inherit") == "on",
            )
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("front:survey_settings"))
        except ActionError as exc:
            error, status = exc.message, 400
    rows = {s.channel_id: s for s in SurveySettings.objects.filter(organization_id=user.organization_id)}
    default = rows.get(None) or SurveySettings(organization_id=user.organization_id)
    # How many answer, per channel: the last RATES_DAYS days (GET /api/v1/insights/surveys
    # gives any period).
    now = timezone.now()
    rates: dict[str, list[dict[str, Any]]] = {}
    for rate in response_rates(user.organization_id, now - dt.timedelta(days=RATES_DAYS), now):
        rate["percent"] = _share(rate["response_rate"])
        rates.setdefault(rate["channel"], []).append(rate)
    return render(
        request,
        "front/survey_settings.html",
        {
            "nav": "insights",
            "error": error,
            "default": default,
            "kinds": Kind.choices,
            "rates_days": RATES_DAYS,
            "channels": [
                {"channel": c, "own": rows.get(c.pk), "settings": rows.get(c.pk) or default,
                 "rates": rates.get(c.code, [])}
                for c in channels
            ],
        },
        status=status,
    )
