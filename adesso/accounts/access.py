"""The only way views fetch agents and teams: scoped to the caller's organisation, and
deciding the caller's role."""

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from adesso.accounts.models import Invitation, Role, Team, User
from adesso.lib.codes import hash_secret

# The attribute `for_role` sets on a view or API endpoint: the least role it takes. The
# OpenAPI document shows it as `x-adesso-role`; tests/test_access_generated.py reads it.
ROLE_ATTRIBUTE = "adesso_role"

View = TypeVar("View", bound=Callable[..., Any])


def require_admin(user: User) -> None:
    """Administration (agents, invitations, teams) is for admins: 403 for everyone else."""
    if not user.is_admin:
        raise PermissionDenied(_("Only admins can do this."))


def require_role(user: User, role: str, message: str | None = None) -> None:
    """403 unless the user has `role` or a higher one (admin > supervisor > agent)."""
    if role == Role.ADMIN and not user.is_admin:
        raise PermissionDenied(message or _("Only admins can do this."))
    if role == Role.SUPERVISOR and not user.is_supervisor:
        raise PermissionDenied(message or _("Only supervisors and admins can do this."))


def for_role(role: str, message: str | None = None) -> Callable[[View], View]:
    """Declare, and check before it runs, the least role a view or an API endpoint takes.

    The caller is the API token's agent (`request.auth`) or the logged-in agent
    (`request.user`, below `login_required`). The declaration is what the generated
    access test and the OpenAPI document read: a view that refuses a role without
    declaring it is a test failure."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(request: Any, *args: Any, **kwargs: Any) -> Any:
            user = getattr(request, "auth", None) or request.user
            require_role(user, role, message)
            return view(request, *args, **kwargs)

        setattr(checked, ROLE_ATTRIBUTE, role)
        # Annotations resolved in the view's own module: django-ninja reads them from the
        # signature, and the wrapper's globals are this module's.
        try:
            signature = inspect.signature(view, eval_str=True)
        except NameError:  # a name only imported for type checking: left as written
            signature = inspect.signature(view)
        setattr(checked, "__signature__", signature)  # noqa: B010
        return checked  # type: ignore[return-value]

    return decorate


admin_only = for_role(Role.ADMIN)
supervisor_only = for_role(Role.SUPERVISOR)


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
