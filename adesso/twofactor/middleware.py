"""Keeps a logged-in agent to the second step until it is done.

At login (the `user_logged_in` signal) the session is marked: "verify" for an agent
with an authenticator, "enrol" for one whom the organisation requires to use two-factor
login and who has none yet; nothing for the others. While the mark is there every page
leads to the code page (or the enrolment page); the mark goes when the step is done.
Reading the mark costs no query (the session is already loaded). A change of the
organisation's policy applies from each agent's next login. The API (personal tokens)
and the channels' endpoints do not use the session, so they are not concerned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_KEY = "adesso_twofactor"
VERIFY = "verify"
ENROL = "enrol"
OPEN_PREFIXES = ("/static/", "/api/", "/channels/", "/media/")


def mark_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """On login: what the agent still has to do (receiver of `user_logged_in`)."""
    if request is None or not hasattr(request, "session"):
        return
    from adesso.twofactor.actions import confirmed_device, required_for

    if confirmed_device(user) is not None:
        request.session[SESSION_KEY] = VERIFY
    elif required_for(user):
        request.session[SESSION_KEY] = ENROL
    else:
        request.session.pop(SESSION_KEY, None)


def clear_mark(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        step = session.get(SESSION_KEY) if session is not None else None
        if step is None or request.path.startswith(OPEN_PREFIXES):
            return self.get_response(request)
        open_paths = {reverse("front:logout"), reverse("front:login"), reverse("front:language")}
        target = reverse("front:two_factor_verify") if step == VERIFY else reverse("front:two_factor")
        if request.path in open_paths or request.path == target:
            return self.get_response(request)
        if step == VERIFY:
            return HttpResponseRedirect(target + "?" + urlencode({"next": request.get_full_path()}))
        return HttpResponseRedirect(target)
