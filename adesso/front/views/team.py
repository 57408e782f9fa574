"""The team page (who is online, their load, the queue), presence, and the wording of
the automatic messages."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from adesso.accounts.access import access_agent_by_code, admin_only
from adesso.autoreply.actions import do_save_template, template_text
from adesso.autoreply.models import Purpose
from adesso.autoreply.texts import PLACEHOLDERS, Filling
from adesso.autoreply.texts import render as render_template
from adesso.front.views.common import AgentRequest, agents_of
from adesso.lib.errors import ActionError
from adesso.routing.actions import do_set_presence, do_update_routing
from adesso.routing.engine import agent_loads, queue


def _back(request: AgentRequest, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = fallback
    return HttpResponseRedirect(target or fallback)


@login_required
@require_POST
def presence(request: AgentRequest) -> HttpResponse:
    try:
        do_set_presence(request.user, request.POST.get("presence", ""))
    except ActionError as e:
        messages.error(request, e.message)
    return _back(request, reverse("front:inbox"))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


@login_required
def team(request: AgentRequest) -> HttpResponse:
    user = request.user
    loads = agent_loads(user.organization_id)
    agents = []
    for agent in agents_of(user):
        open_count, waiting = loads.get(agent.pk, (0, 0))
        agents.append({"agent": agent, "open": open_count, "waiting": waiting,
                       "full": open_count >= agent.capacity})
    queued = list(queue(user.organization_id).select_related("contact", "channel")[:100])
    return render(request, "front/team.html", {
        "agents": agents, "queued": queued, "queue_count": len(queued), "nav": "team",
        "presences": [("online", _("Online")), ("away", _("Away")), ("offline", _("Offline"))],
    })


@login_required
@require_POST
def team_agent(request: AgentRequest, code: str) -> HttpResponse:
    agent = access_agent_by_code(request.user, code)
    try:
        capacity_raw = request.POST.get("capacity", "").strip()
        try:
            capacity = int(capacity_raw) if capacity_raw else None
        except ValueError:
            raise ActionError(_("Capacity must be a whole number."), "invalid_capacity") from None
        do_update_routing(
            request.user, agent, capacity=capacity, languages=_split(request.POST.get("languages", "")),
            skills=_split(request.POST.get("skills", "")),
        )
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Routing settings of %(agent)s saved.") % {"agent": agent.display_name})
    return HttpResponseRedirect(reverse("front:team"))


SAMPLE_NAME = "Maria"


@login_required
@admin_only
def autoreplies(request: AgentRequest) -> HttpResponse:
    user = request.user
    if not user.is_admin:
        raise PermissionDenied
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        purpose, language = request.POST.get("purpose", ""), request.POST.get("language", "")
        text = request.POST.get("text", "")
        try:
            do_save_template(user, purpose, language, text)
        except ActionError as e:
            errors[f"{purpose}-{language}"] = e.message
            values[f"{purpose}-{language}"] = text
        else:
            messages.success(request, _("Automatic message saved."))
            return HttpResponseRedirect(reverse("front:autoreplies"))
    now = timezone.now()
    forms = []
    for purpose, label in Purpose.choices:
        for language, language_label in (("it", "Italiano"), ("en", "English")):
            key = f"{purpose}-{language}"
            text = values.get(key) or template_text(user.organization_id, purpose, language)
            filling = Filling(name=SAMPLE_NAME, minutes=12, at=now + dt.timedelta(minutes=12), position=3,
                              agent=user.display_name, organization=user.organization.name, asked_position=True)
            try:
                preview = render_template(text, filling, language, now)
            except (KeyError, ValueError, IndexError):
                preview = ""
            forms.append({"key": key, "purpose": purpose, "label": label, "language": language,
                          "language_label": language_label, "text": text, "preview": preview,
                          "error": errors.get(key, "")})
    return render(request, "front/autoreplies.html", {
        "forms": forms, "placeholders": ["{" + p + "}" for p in PLACEHOLDERS], "nav": "autoreplies",
    }, status=400 if errors else 200)
