"""An agent's notifications: conversations given to them, SLA warnings and breaches."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from adesso.front.context import unread_count
from adesso.front.views.common import AgentRequest
from adesso.notifications.actions import do_mark_read
from adesso.notifications.models import Notification

PAGE_SIZE = 50


def describe(n: Notification) -> str:
    data = n.data or {}
    if n.kind == "assigned":
        return _("A conversation was given to you")
    if n.kind == "transferred":
        return _("A conversation was transferred to you: read the handover note")
    if n.kind == "sla_warning":
        return _("%(percent)s%% of the answer time used: the customer is waiting") % {
            "percent": data.get("percent", "?")}
    if n.kind == "sla_breached":
        return _("Answer time exceeded: the customer has waited too long")
    if n.kind == "survey_answered":
        return _("A bad survey score (%(score)s) for a conversation you handled") % {"score": data.get("score", "?")}
    return n.kind


@login_required
def notifications(request: AgentRequest) -> HttpResponse:
    qs = Notification.objects.filter(user=request.user).select_related(
        "conversation", "conversation__contact").order_by("-created_at")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"n": n, "text": describe(n)} for n in page.object_list]
    return render(request, "front/notifications.html", {"page": page, "items": items, "nav": "notifications"})


@login_required
def bell(request: AgentRequest) -> HttpResponse:
    return render(request, "front/_bell.html", unread_count(request))


@login_required
@require_POST
def read(request: AgentRequest, notification_id: int) -> HttpResponse:
    n = get_object_or_404(Notification, pk=notification_id, user=request.user)
    do_mark_read(request.user, n.pk)
    return HttpResponseRedirect(reverse("front:conversation", args=[n.conversation.code]))


@login_required
@require_POST
def read_all(request: AgentRequest) -> HttpResponse:
    do_mark_read(request.user)
    return HttpResponseRedirect(reverse("front:notifications"))
