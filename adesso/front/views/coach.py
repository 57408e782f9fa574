"""The reply coach in the agent UI: coach a draft as the agent types (JSON for coach.js),
supervisors' coaching statistics with charts, and admins' own rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from adesso.accounts.access import admin_only, supervisor_only
from adesso.coach import actions, stats
from adesso.coach.access import access_rule_by_code
from adesso.coach.engine import warm_up
from adesso.coach.models import CoachRule, OnSend, Severity
from adesso.coach.rules import BUILTIN_IDS, builtin_rules
from adesso.coach.similarity import similarity_layer
from adesso.conversations.access import access_conversation_by_code
from adesso.front.views.common import AgentRequest, agents_of, teams_of
from adesso.lib.charts import bar_chart, line_chart
from adesso.lib.errors import ActionError

MAX_DRAFT = 20_000


@login_required
@require_POST
def coach_check(request: AgentRequest, code: str) -> HttpResponse:
    """The coach's report on a draft of a reply in this conversation."""
    conversation = access_conversation_by_code(request.user, code)
    text = request.POST.get("text", "")[:MAX_DRAFT]
    if not text.strip():
        # coach.js asks once with an empty draft when the page opens: get ready then.
        warm_up()
        similarity_layer()  # starts loading the sentence encoder in the background
    report = actions.coach_draft(request.user, text, conversation=conversation).as_dict()
    report["on_send"] = actions.on_send_setting(request.user.organization_id)
    return JsonResponse(report)


@login_required
@require_POST
def coach_dismiss(request: AgentRequest, code: str) -> HttpResponse:
    """One click in the reply box: this finding does not apply (recorded per rule)."""
    conversation = access_conversation_by_code(request.user, code)
    try:
        actions.do_dismiss(request.user, request.POST.get("pattern", ""), conversation,
                           request.POST.get("layer", ""), request.POST.get("text", "")[:1000])
    except ActionError as exc:
        return JsonResponse({"error": exc.code, "detail": str(exc)}, status=400)
    return JsonResponse({"ok": True}, status=201)


def _labels(language: str) -> dict[str, str]:
    return {r.id: r.text("label", language) for r in builtin_rules()}


@login_required
@supervisor_only
def coach_stats(request: AgentRequest) -> HttpResponse:
    """How often each pattern appears in sent replies, per week, by agent or team."""
    user = request.user
    if not user.is_supervisor:
        raise PermissionDenied
    agent, team = request.GET.get("agent", ""), request.GET.get("team", "")
    try:
        days = max(7, min(366, int(request.GET.get("days", "56"))))
    except ValueError:
        days = 56
    data = stats.coaching_stats(user, days=days, bucket="week", agent_code=agent or None, team_code=team or None)
    labels = _labels((request.LANGUAGE_CODE or "en")[:2])
    periods = [p[5:] for p in data["periods"]]
    top = list(data["patterns"])[:6]
    per_100 = {
        labels.get(p, p): [round(100 * n / r, 1) if r else 0.0 for n, r in zip(data["patterns"][p], data["replies"],
                                                                           strict=True)]
        for p in top
    }
    context: dict[str, Any] = {
        "nav": "coach", "data": data, "days": days, "agent": agent, "team": team,
        "agents": agents_of(user), "teams": teams_of(user),
        "totals": [(labels.get(p, p), n) for p, n in sorted(data["totals"].items(), key=lambda kv: -kv[1])],
        "replies_total": sum(data["replies"]),
        "dismissals": [(labels.get(p, p), n) for p, n in data["dismissals"].items()],
        "chart_patterns": bar_chart(
            periods, {labels.get(p, p): [float(v) for v in data["patterns"][p]] for p in top},
            title=_("Patterns found in sent replies, per week"), stacked=True) if top else "",
        "chart_trend": line_chart(periods, per_100, title=_("Per 100 replies: the trend"), unit="") if top else "",
    }
    return render(request, "front/coach_stats.html", context)


def _admin(request: AgentRequest) -> None:
    if not request.user.is_admin:
        raise PermissionDenied


@login_required
@admin_only
def coach_rules(request: AgentRequest) -> HttpResponse:
    """Admins: the organisation's own rules and what happens on send."""
    _admin(request)
    user = request.user
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            if "on_send" in request.POST:
                actions.do_set_on_send(user, request.POST["on_send"])
                messages.success(request, _("Saved."))
            elif "delete" in request.POST:
                actions.do_delete_rule(user, access_rule_by_code(user, request.POST["delete"]))
                messages.success(request, _("Rule deleted."))
            else:
                values = {k: request.POST.get(k, "") for k in ("pattern", "language", "phrases", "reason",
                                                                "suggestion", "severity")}
                actions.do_save_rule(user, None, dict(values))
                messages.success(request, _("Rule added: the coach uses it from now on."))
            return HttpResponseRedirect(reverse("front:coach_rules"))
        except ActionError as e:
            errors["rule"] = e.message
            status = 400
    context = {
        "nav": "coach_rules", "errors": errors, "values": values,
        "rules": CoachRule.objects.filter(organization_id=user.organization_id).order_by("pattern", "id"),
        "on_send": actions.on_send_setting(user.organization_id), "on_send_choices": OnSend.choices,
        "severities": Severity.choices, "builtin": sorted(_labels((request.LANGUAGE_CODE or "en")[:2]).items()),
        "builtin_ids": BUILTIN_IDS,
    }
    return render(request, "front/coach_rules.html", context, status=status)
