"""The request an agent endpoint receives."""

from django.http import HttpRequest

from adesso.accounts.models import User


class AgentRequest(HttpRequest):
    """An HttpRequest that passed AgentToken: `auth` is the active agent (for type checking)."""

    auth: User
