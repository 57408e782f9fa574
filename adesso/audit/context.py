"""The request being served, for audit entries written deep inside actions.

Actions take the actor as an argument; the IP address (and, for actions that are
not told who acts, the logged-in agent) come from here. Outside a request (the
worker, commands) there is none: the entry has no IP and the actor is the system.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from adesso.accounts.models import User

_request: ContextVar[HttpRequest | None] = ContextVar("adesso_audit_request", default=None)


def current_ip() -> str | None:
    request = _request.get()
    if request is None:
        return None
    # The address of whoever connected to us. A proxy's X-Forwarded-For is not trusted:
    # anyone can write it.
    return request.META.get("REMOTE_ADDR") or None


def current_user() -> User | None:
    """The agent of the request: a session login, or the API token's owner."""
    request = _request.get()
    if request is None:
        return None
    auth = getattr(request, "auth", None)
    if auth is not None and getattr(auth, "pk", None):
        return auth  # type: ignore[no-any-return]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user  # type: ignore[no-any-return]
    return None


class AuditContextMiddleware:
    """Makes the request known to `current_ip` and `current_user` while it is served."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
