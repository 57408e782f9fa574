"""Administration through the API (admins): invitations, roles, deactivation, teams.

Every agent may list the teams and read one; changing anything here is for admins
(403 for the others); other organisations' agents, invitations and teams are 404.
"""

from typing import Annotated, Any

from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import Strict, field_validator

from adesso.accounts import actions
from adesso.accounts.access import (
    access_any_agent_by_code,
    access_invitation_by_code,
    access_team_by_code,
    access_team_for_admin,
    admin_only,
    agents_for_admin,
    require_admin,
)
from adesso.accounts.models import Invitation, Role, Team, TeamMembership, User
from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import NOT_BLANK, BodyIn, ErrorOut, TeamOut

router = Router()
teams_router = Router()


class InvitationIn(BodyIn):
    email: str = Field(..., min_length=3, max_length=254)
    name: str = Field("", max_length=200)
    role: Annotated[Role, Strict(False)] = Role.AGENT
    language: str = Field("", max_length=8, description="it or en; the admin's language by default")


class InvitationOut(Schema):
    code: str
    email: str
    name: str
    role: str
    language: str
    state: str = Field(..., description="pending, accepted, revoked or expired")
    created_at: Any
    expires_at: Any
    invited_by: str | None


class InvitationCreated(InvitationOut):
    accept_url: str = Field(..., description="The link to set a password and log in (also mailed); shown once.")


class AdminAgentOut(Schema):
    code: str
    name: str
    email: str
    role: str
    language: str
    presence: str
    is_active: bool
    teams: list[str] = Field(..., description="codes of the agent's teams")


class RoleIn(BodyIn):
    role: Annotated[Role, Strict(False)]


class TeamIn(BodyIn):
    name: str = Field(..., min_length=1, max_length=200, pattern=NOT_BLANK)

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name is empty")
        return value.strip()


class MembersIn(BodyIn):
    members: list[str] = Field(..., max_length=500, description="agent codes")
    supervisors: list[str] = Field(
        default_factory=list, max_length=500, description="agent codes (supervisors or admins); members too"
    )


class MemberOut(Schema):
    code: str
    name: str
    role: str
    supervisor: bool


class TeamDetailOut(Schema):
    code: str
    name: str
    members: list[MemberOut]


def invitation_out(invitation: Invitation) -> dict[str, Any]:
    return {
        "code": invitation.code,
        "email": invitation.email,
        "name": invitation.name,
        "role": invitation.role,
        "language": invitation.language,
        "state": invitation.state(timezone.now()),
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "invited_by": invitation.invited_by.code if invitation.invited_by else None,
    }


def admin_agent_out(user: User) -> dict[str, Any]:
    return {
        **(serialize.agent(user) or {}),
        "is_active": user.is_active,
        "teams": [t.code for t in Team.objects.filter(members=user).order_by("name")],
    }


def team_detail(team: Team) -> dict[str, Any]:
    rows = TeamMembership.objects.filter(team=team, user__is_active=True).select_related("user")
    members = sorted(rows, key=lambda m: (m.user.display_name.lower(), m.user.email))
    return {
        "code": team.code,
        "name": team.name,
        "members": [
            {"code": m.user.code, "name": m.user.display_name, "role": m.user.role, "supervisor": m.is_supervisor}
            for m in members
        ],
    }


# -- agents and invitations ----------------------------------------------------------------


@router.post("/invitations", response={201: InvitationCreated, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut})
@admin_only
def invite(request: AgentRequest, body: InvitationIn) -> Status:
    """Invite someone by email (admins). The answer carries `accept_url`, also mailed to
    them: it lets them set their own password and log in, once, within 7 days. A new
    invitation to the same address replaces a pending one."""
    invitation, secret = actions.do_invite_agent(
        request.auth,
        body.email,
        body.name,
        body.role,
        body.language,
    )
    return Status(201, {**invitation_out(invitation), "accept_url": actions.invitation_url(secret)})


@router.get("/invitations", response={200: list[InvitationOut], 403: ErrorOut})
@admin_only
def invitations(request: AgentRequest) -> list[dict[str, Any]]:
    """The organisation's invitations, newest first (admins)."""
    require_admin(request.auth)
    found = Invitation.objects.filter(organization_id=request.auth.organization_id).select_related("invited_by")
    return [invitation_out(i) for i in found.order_by("-created_at")[:200]]


@router.post("/invitations/{code}/revoke", response={200: InvitationOut, 403: ErrorOut, 404: ErrorOut})
@admin_only
def revoke(request: AgentRequest, code: str) -> dict[str, Any]:
    """The link stops working (admins)."""
    invitation = actions.do_revoke_invitation(request.auth, access_invitation_by_code(request.auth, code))
    return invitation_out(invitation)


@router.get("/all", response={200: list[AdminAgentOut], 403: ErrorOut})
@admin_only
def all_agents(request: AgentRequest) -> list[dict[str, Any]]:
    """Every agent, deactivated ones included, with their teams (admins)."""
    users = agents_for_admin(request.auth).order_by("-is_active", "name", "email")
    return [admin_agent_out(u) for u in users]


@router.put("/{code}/role", response={200: AdminAgentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
@admin_only
def change_role(request: AgentRequest, code: str, body: RoleIn) -> dict[str, Any]:
    """Agent, supervisor or admin (admins). The last admin stays admin."""
    agent = actions.do_change_role(request.auth, access_any_agent_by_code(request.auth, code), body.role)
    return admin_agent_out(agent)


@router.post("/{code}/deactivate", response={200: AdminAgentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
@admin_only
def deactivate(request: AgentRequest, code: str) -> dict[str, Any]:
    """The agent can no longer log in or use tokens; their open conversations go back to the
    queue, unassigned; their history stays (admins)."""
    agent = actions.do_deactivate_agent(request.auth, access_any_agent_by_code(request.auth, code))
    return admin_agent_out(agent)


@router.post("/{code}/reactivate", response={200: AdminAgentOut, 403: ErrorOut, 404: ErrorOut})
@admin_only
def reactivate(request: AgentRequest, code: str) -> dict[str, Any]:
    """Back with their old password and teams (admins)."""
    agent = actions.do_reactivate_agent(request.auth, access_any_agent_by_code(request.auth, code))
    return admin_agent_out(agent)


# -- teams -----------------------------------------------------------------------------------


@teams_router.get("", response=list[TeamOut])
def teams(request: AgentRequest) -> list[dict[str, Any] | None]:
    """The organisation's teams."""
    found = Team.objects.filter(organization_id=request.auth.organization_id).order_by("name")
    return [serialize.team(t) for t in found]


@teams_router.post("", response={201: TeamDetailOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut})
@admin_only
def create_team(request: AgentRequest, body: TeamIn) -> Status:
    """A new, empty team (admins)."""
    team = actions.do_save_team(request.auth, None, body.name)
    return Status(201, team_detail(team))


@teams_router.get("/{code}", response={200: TeamDetailOut, 404: ErrorOut})
def team(request: AgentRequest, code: str) -> dict[str, Any]:
    """A team with its active members and who supervises it."""
    return team_detail(access_team_by_code(request.auth, code))


@teams_router.patch(
    "/{code}", response={200: TeamDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
)
@admin_only
def rename_team(request: AgentRequest, code: str, body: TeamIn) -> dict[str, Any]:
    """Rename a team (admins)."""
    team = actions.do_save_team(request.auth, access_team_for_admin(request.auth, code), body.name)
    return team_detail(team)


@teams_router.put("/{code}/members", response={200: TeamDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
@admin_only
def set_members(request: AgentRequest, code: str, body: MembersIn) -> dict[str, Any]:
    """Replace the team's members and supervisors (admins)."""
    team = access_team_for_admin(request.auth, code)
    members = [access_any_agent_by_code(request.auth, c) for c in dict.fromkeys(body.members)]
    supervisors = [access_any_agent_by_code(request.auth, c) for c in dict.fromkeys(body.supervisors)]
    actions.do_set_team_members(request.auth, team, members, supervisors)
    return team_detail(team)


@teams_router.delete("/{code}", response={204: None, 403: ErrorOut, 404: ErrorOut})
@admin_only
def delete_team(request: AgentRequest, code: str) -> Status:
    """Delete a team; its conversations keep their history and lose the team (admins)."""
    actions.do_delete_team(request.auth, access_team_for_admin(request.auth, code))
    return Status(204, None)
