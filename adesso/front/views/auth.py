"""Logging in and out, and the agent's language preference."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from adesso.front.views.common import AgentRequest


class LoginView(auth_views.LoginView):
    template_name = "front/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Logging out means going offline: routing stops giving you conversations and
    hands the ones still waiting for you to someone who is there."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            from adesso.routing.actions import do_set_presence

            do_set_presence(request.user, "offline")  # type: ignore[arg-type]
        return super().post(request, *args, **kwargs)


@require_POST
@login_required
def set_language(request: AgentRequest) -> HttpResponse:
    """Store the agent's UI language (IT or EN); the middleware applies it on every page."""
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES):
        request.user.language = language
        request.user.save(update_fields=["language"])
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = resolve_url("front:inbox")
    return HttpResponseRedirect(target)
