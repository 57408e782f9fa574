"""The only way views fetch agents and teams: scoped to the caller's organisation."""

from django.http import Http404

from adesso.accounts.models import Team, User
from adesso.lib.codes import hash_secret


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
