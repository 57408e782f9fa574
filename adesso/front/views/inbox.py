"""The inbox: conversations by tab and filter, longest waiting first, live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from adesso.conversations.models import Status
from adesso.conversations.queries import inbox as inbox_query
from adesso.conversations.tagging import tags_for
from adesso.front.snooze import PRESETS
from adesso.front.views.common import AgentRequest, agents_of, channels_of, teams_of

PAGE_SIZE = 25
TABS = {
    "all": _("All"),
    "mine": _("Mine"),
    "unassigned": pgettext_lazy("inbox tab: conversations nobody has", "Unassigned"),
    "team": _("My teams"),
}
STATUSES = (*Status.values, "all")


@dataclass
class Filters:
    tab: str
    status: str
    channel: str
    team: str
    sort: str
    tag: str = ""

    @classmethod
    def from_request(cls, request: AgentRequest) -> Filters:
        """Unknown values fall back to the defaults: a stale link still shows an inbox."""
        tab = request.GET.get("tab", "")
        status = request.GET.get("status", "")
        return cls(
            tab=tab if tab in TABS else "all",
            status=status if status in STATUSES else Status.OPEN,
            channel=request.GET.get("channel", "")[:16],
            team=request.GET.get("team", "")[:16],
            sort="sla" if request.GET.get("sort") == "sla" else "waiting",
            tag=request.GET.get("tag", "")[:40],
        )


def _context(request: AgentRequest) -> dict[str, Any]:
    user = request.user
    f = Filters.from_request(request)
    assignee = {"mine": "me", "unassigned": "none"}.get(f.tab)
    team = f.team or ("mine" if f.tab == "team" else None)
    qs = inbox_query(user, status=f.status, assignee=assignee, team=team,
                     channel=f.channel or None, ordering=f.sort, tag=f.tag or None)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return {"filters": f, "page": page, "conversations": list(page.object_list)}


def _tabs(request: AgentRequest, f: Filters) -> list[tuple[str, object, int]]:
    """Each tab with its count, under the same status/channel/team filters: one query."""
    user = request.user
    my_team_ids = list(user.teams.values_list("pk", flat=True))
    base = inbox_query(user, status=f.status, team=f.team or None, channel=f.channel or None, tag=f.tag or None)
    counts = base.order_by().aggregate(
        all=Count("pk"),
        mine=Count("pk", filter=Q(assignee=user)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        team=Count("pk", filter=Q(team_id__in=my_team_ids)),
    )
    return [(tab, label, counts[tab]) for tab, label in TABS.items()]


@login_required
def inbox(request: AgentRequest) -> HttpResponse:
    context = _context(request)
    context.update(
        tabs=_tabs(request, context["filters"]),
        statuses=[*Status.choices],
        channels=channels_of(request.user),
        teams=teams_of(request.user),
        nav="inbox",
        # The tag filter and the bulk actions' bar.
        tag_names=list(tags_for(request.user).values_list("name", flat=True)),
        agents=agents_of(request.user),
        presets=PRESETS,
    )
    return render(request, "front/inbox.html", context)


@login_required
def inbox_list(request: AgentRequest) -> HttpResponse:
    """The list alone: what the page re-fetches when a live event arrives."""
    return render(request, "front/_inbox_list.html", _context(request))


@login_required
def inbox_tabs(request: AgentRequest) -> HttpResponse:
    """The tabs with their counts, re-fetched with the list."""
    f = Filters.from_request(request)
    return render(request, "front/_inbox_tabs.html", {"filters": f, "tabs": _tabs(request, f)})
