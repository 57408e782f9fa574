"""Login throttling (django-axes): failed logins are counted per account and per
address; past `AXES_FAILURE_LIMIT` the login is refused, even with the right password,
until the cool-off has passed (docs/security.md)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' check, for logins that come with a request (the login page). A login
    without one (a management command, the test client) is not a web attempt: nothing
    to count, and the next backend decides."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)  # type: ignore[no-any-return]


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None) -> HttpResponse:
    """The login page again, saying why and for how long (429)."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = max(1, int(cooloff.total_seconds() // 60)) if cooloff is not None else 0
    context = {"form": AuthenticationForm(request), "locked": True, "minutes": minutes, "next": ""}
    return render(request, "front/login.html", context, status=429)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind `ADESSO_PROXY_COUNT` trusted reverse
    proxies the address the outermost of them saw (X-Forwarded-For, counted from the
    right, so a client cannot choose it by sending the header itself)."""
    proxies = int(getattr(settings, "ADESSO_PROXY_COUNT", 0))
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    return hops[-proxies] if len(hops) >= proxies else remote
