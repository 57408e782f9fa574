"""The only way views fetch agents and teams: scoped to the caller's organisation, and
deciding the caller's role."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from adesso.accounts.models import Invitation, Team, User
from adesso.lib.codes import hash_secret


def require_admin(user: User) -> None:
    """Administration (agents, invitations, teams) is for admins: 403 for everyone else."""
    if not user.is_admin:
        raise PermissionDenied(_("Only admins can do this."))


def agents_for_admin(admin: User) -> QuerySet[User]:
    """Every agent of the admin's organisation, deactivated ones included."""
    require_admin(admin)
    return User.objects.filter(organization_id=admin.organization_id)


def access_any_agent_by_code(admin: User, code: str) -> User:
    """An agent of the admin's organisation, active or deactivated (for administration)."""
    try:
        return agents_for_admin(admin).get(code=code)
    except User.DoesNotExist:
        raise Http404("No such agent") from None


def access_invitation_by_code(admin: User, code: str) -> Invitation:
    require_admin(admin)
    try:
        return Invitation.objects.get(organization_id=admin.organization_id, code=code)
    except Invitation.DoesNotExist:
        raise Http404("No such invitation") from None


def access_team_for_admin(admin: User, code: str) -> Team:
    require_admin(admin)
    return access_team_by_code(admin, code)


def access_agent_by_code(user: User, code: str) -> User:
    try:
        return User.objects.get(organization_id=user.organization_id, code=code, is_active=True)
    except User.DoesNotExist:
        raise Http404("No such agent") from None


def access_team_by_code(user: User, code: str) -> Team:
    try:
        return Team.objects.get(organization_id=user.organization_id, code=code)
    except Team.DoesNotExist:
        raise Http404("No such team") from None


def user_for_api_token(secret: str) -> User | None:
    """The active agent owning this personal token, or None."""
    if not secret.startswith("adt_"):
        return None
    return (
        User.objects.select_related("organization")
        .filter(api_tokens__token_hash=hash_secret(secret), is_active=True)
        .first()
    )
