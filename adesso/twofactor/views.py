"""The second login step, and the agent's own two-factor page (enrol, codes, disable)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from adesso.lib.errors import ActionError
from adesso.twofactor import actions
from adesso.twofactor.middleware import clear_mark

if TYPE_CHECKING:
    from adesso.front.views.common import AgentRequest


def _qr_svg(url: str) -> str:
    """The otpauth:// URL as an inline SVG (segno: pure Python, nothing fetched)."""
    return segno.make(url, error="m").svg_inline(scale=4, dark="#111", light="#fff")


def _base32(device: Any) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: AgentRequest) -> HttpResponse:
    """After the password: the code from the app, or a recovery code."""
    target = request.GET.get("next") or request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = ""
    error = ""
    if request.method == "POST":
        if actions.throttled(request.user):
            error = _("Too many wrong codes: wait a little and try again.")
        else:
            device = actions.verify(request.user, request.POST.get("code", "")[:32])
            if device is not None:
                otp_login(request, device)
                clear_mark(request)
                if isinstance(device, StaticDevice):
                    left = device.token_set.count()
                    messages.warning(request, _("Recovery code used: %(n)d left.") % {"n": left})
                return HttpResponseRedirect(target or resolve_url("front:inbox"))
            error = _("That code is not right.")
    return render(request, "twofactor/verify.html", {"error": error, "next": target}, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: AgentRequest) -> HttpResponse:
    """The agent's own two-factor login: enrol with a QR code, new recovery codes, disable."""
    user = request.user
    error, codes = "", None
    action = request.POST.get("action", "")
    if request.method == "POST":
        code = request.POST.get("code", "")[:32]
        try:
            if action == "confirm":
                device, codes = actions.do_confirm_enrolment(user, code)
                otp_login(request, device)
                clear_mark(request)
            elif action == "recovery":
                codes = actions.do_new_recovery_codes(user, code)
            elif action == "disable":
                actions.do_disable(user, code)
                messages.success(request, _("Two-factor login is off."))
                return HttpResponseRedirect(reverse("front:two_factor"))
        except ActionError as e:
            error = e.message
    confirmed = actions.confirmed_device(user)
    context: dict[str, Any] = {
        "confirmed": confirmed,
        "required": actions.required_for(user),
        "error": error,
        "codes": codes,
        "recovery_left": StaticDevice.objects.filter(user=user).first(),
        "nav": "two_factor",
    }
    if confirmed is None:
        pending = actions.pending_device(user)
        context["qr"] = mark_safe(_qr_svg(pending.config_url))  # noqa: S308 (segno's own SVG)
        context["secret"] = _base32(pending)
    if context["recovery_left"] is not None:
        context["recovery_left"] = context["recovery_left"].token_set.count()
    return render(request, "twofactor/settings.html", context, status=400 if error else 200)
