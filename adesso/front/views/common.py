"""What every agent view shares: the logged-in agent and the organisation's lists."""

from __future__ import annotations

from django.http import HttpRequest

from adesso.accounts.models import Team, User
from adesso.channels.models import Channel


class AgentRequest(HttpRequest):
    """A request behind `login_required`: its user is an agent."""

    user: User  # type: ignore[assignment]


def agents_of(user: User) -> list[User]:
    """The active agents of the user's organisation, for pickers and names."""
    return list(
        User.objects.filter(organization_id=user.organization_id, is_active=True).order_by(
            "name", "email"
        )
    )


def teams_of(user: User) -> list[Team]:
    return list(Team.objects.filter(organization_id=user.organization_id).order_by("name"))


def channels_of(user: User) -> list[Channel]:
    return list(Channel.objects.filter(organization_id=user.organization_id).order_by("name"))
