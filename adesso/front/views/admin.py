"""Administration pages (admins): agents and invitations, teams; and the page an
invited person opens to choose a password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from adesso.accounts import actions
from adesso.accounts.access import (
    access_any_agent_by_code,
    access_invitation_by_code,
    access_team_for_admin,
    admin_only,
    agents_for_admin,
    require_admin,
)
from adesso.accounts.models import Invitation, Role, Team, TeamMembership, User
from adesso.front.views.common import AgentRequest
from adesso.lib.errors import ActionError


def _roles() -> list[tuple[str, str]]:
    return [(Role.AGENT, _("Agent")), (Role.SUPERVISOR, _("Supervisor")), (Role.ADMIN, _("Admin"))]


@login_required
@admin_only
def agents(request: AgentRequest) -> HttpResponse:
    """Every agent with role and state, the invitations, and the form to invite someone."""
    admin = request.user
    require_admin(admin)
    values = {"email": "", "name": "", "role": Role.AGENT, "language": admin.language}
    error = ""
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        try:
            invitation, secret = actions.do_invite_agent(
                admin,
                values["email"],
                values["name"],
                values["role"],
                values["language"],
                base_url=request.build_absolute_uri("/"),
            )
        except ActionError as e:
            error = e.message
        else:
            request.session["invitation_link"] = request.build_absolute_uri(actions.invitation_path(secret))
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return HttpResponseRedirect(reverse("front:admin_agents"))
    users = list(agents_for_admin(admin).order_by("-is_active", "name", "email"))
    teams: dict[int, list[str]] = {}
    for user_id, name in TeamMembership.objects.filter(user__in=users).values_list("user_id", "team__name"):
        teams.setdefault(user_id, []).append(name)
    now = timezone.now()
    invitations = [
        (i, i.state(now))
        for i in Invitation.objects.filter(organization_id=admin.organization_id)
        .select_related("invited_by")
        .order_by("-created_at")[:50]
    ]
    return render(
        request,
        "front/admin_agents.html",
        {
            "rows": [{"agent": u, "teams": sorted(teams.get(u.pk, []))} for u in users],
            "invitations": invitations,
            "roles": _roles(),
            "values": values,
            "error": error,
            "link": request.session.pop("invitation_link", ""),
            "days": actions.INVITATION_DAYS,
            "nav": "admin",
        },
        status=400 if error else 200,
    )


def _done(request: AgentRequest, action: str, target: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse(target) + f"#{action}")


@login_required
@require_POST
@admin_only
def agent_role(request: AgentRequest, code: str) -> HttpResponse:
    agent = access_any_agent_by_code(request.user, code)
    try:
        actions.do_change_role(request.user, agent, request.POST.get("role", ""))
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request,
            _("%(agent)s is now %(role)s.") % {"agent": agent.display_name, "role": dict(_roles())[agent.role].lower()},
        )
    return _done(request, f"agent-{code}", "front:admin_agents")


@login_required
@require_POST
@admin_only
def agent_active(request: AgentRequest, code: str) -> HttpResponse:
    """Deactivate (`active=0`) or reactivate (`active=1`) an agent."""
    agent = access_any_agent_by_code(request.user, code)
    try:
        if request.POST.get("active") == "1":
            actions.do_reactivate_agent(request.user, agent)
            messages.success(request, _("%(agent)s can log in again.") % {"agent": agent.display_name})
        else:
            actions.do_deactivate_agent(request.user, agent)
            messages.success(
                request,
                _("%(agent)s was deactivated; their open conversations are back in the queue.")
                % {"agent": agent.display_name},
            )
    except ActionError as e:
        messages.error(request, e.message)
    return _done(request, f"agent-{code}", "front:admin_agents")


@login_required
@require_POST
@admin_only
def invitation_revoke(request: AgentRequest, code: str) -> HttpResponse:
    invitation = actions.do_revoke_invitation(request.user, access_invitation_by_code(request.user, code))
    messages.success(request, _("The invitation to %(email)s no longer works.") % {"email": invitation.email})
    return _done(request, "invitations", "front:admin_agents")


@login_required
@admin_only
def teams(request: AgentRequest) -> HttpResponse:
    """Teams with their members and supervisors; a form to create one."""
    admin = request.user
    require_admin(admin)
    if request.method == "POST":
        try:
            team = actions.do_save_team(admin, None, request.POST.get("name", ""))
        except ActionError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, _("Team %(name)s created: now choose its members.") % {"name": team.name})
            return HttpResponseRedirect(reverse("front:admin_teams") + f"#team-{team.code}")
    active = list(User.objects.filter(organization_id=admin.organization_id, is_active=True).order_by("name", "email"))
    memberships = {
        (m.team_id, m.user_id): m.is_supervisor
        for m in TeamMembership.objects.filter(team__organization_id=admin.organization_id)
    }
    rows = []
    for team in Team.objects.filter(organization_id=admin.organization_id).order_by("name"):
        rows.append(
            {
                "team": team,
                "agents": [
                    {
                        "agent": a,
                        "member": (team.pk, a.pk) in memberships,
                        "supervisor": memberships.get((team.pk, a.pk), False),
                    }
                    for a in active
                ],
            }
        )
    return render(request, "front/admin_teams.html", {"rows": rows, "nav": "admin"})


@login_required
@require_POST
@admin_only
def team_save(request: AgentRequest, code: str) -> HttpResponse:
    """Rename a team and set its members and supervisors, or delete it (`delete`)."""
    admin = request.user
    team = access_team_for_admin(admin, code)
    try:
        if request.POST.get("delete"):
            actions.do_delete_team(admin, team)
            messages.success(request, _("Team %(name)s deleted.") % {"name": team.name})
            return HttpResponseRedirect(reverse("front:admin_teams"))
        actions.do_save_team(admin, team, request.POST.get("name", ""))
        chosen = set(request.POST.getlist("members"))
        supervising = set(request.POST.getlist("supervisors"))
        active = User.objects.filter(organization_id=admin.organization_id, is_active=True)
        members = [a for a in active if a.code in chosen | supervising]
        actions.do_set_team_members(admin, team, members, [a for a in members if a.code in supervising])
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Team %(name)s saved.") % {"name": team.name})
    return _done(request, f"team-{code}", "front:admin_teams")


def accept_invitation(request: HttpRequest, secret: str) -> HttpResponse:
    """The invited person chooses a password (Django's validators) and is logged in. The
    page speaks the language the admin chose for them."""
    invitation = actions.invitation_by_secret(secret)
    language = invitation.language if invitation is not None else translation.get_language()
    with translation.override(language):
        return _accept(request, secret, invitation)


def _accept(request: HttpRequest, secret: str, invitation: Invitation | None) -> HttpResponse:
    state = invitation.state() if invitation is not None else "invalid"
    error = ""
    if request.method == "POST" and invitation is not None:
        password, again = request.POST.get("password", ""), request.POST.get("password2", "")
        try:
            if password != again:
                raise ActionError(_("The two passwords differ."), "invalid_password")
            agent = actions.do_accept_invitation(secret, password, request.POST.get("name", ""))
        except ActionError as e:
            error = e.message
            state = invitation.state()
        else:
            login(request, agent, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to %(organization)s!") % {"organization": agent.organization.name})
            return HttpResponseRedirect(reverse("front:inbox"))
    status = (
        200
        if state == "pending" and not error
        else (400 if error and state == "pending" else 410 if invitation else 404)
    )
    return render(
        request,
        "front/admin_accept.html",
        {
            "invitation": invitation,
            "state": state,
            "error": error,
        },
        status=status,
    )
