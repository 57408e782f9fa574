"""Two-factor login (TOTP) for agents, on django-otp's devices (docs/privacy.md).

An agent has at most one confirmed TOTP device ("authenticator") and one static device
holding their recovery codes (each works once). Whether they must have one is the
organisation's choice (PrivacySettings.two_factor: optional, admins, everyone).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from adesso.accounts.access import require_admin
from adesso.accounts.models import User
from adesso.audit import events as audit
from adesso.lib.errors import ActionError
from adesso.privacy.models import PrivacySettings, TwoFactorPolicy

RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery"


def required_for(user: User) -> bool:
    """Whether the organisation makes two-factor login compulsory for this agent."""
    policy = (
        PrivacySettings.objects.filter(organization_id=user.organization_id)
        .values_list("two_factor", flat=True)
        .first()
    )
    return policy == TwoFactorPolicy.EVERYONE or (policy == TwoFactorPolicy.ADMINS and user.is_admin)


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: User) -> TOTPDevice:
    """The device being enrolled: the same secret until it is confirmed (reloading the
    page does not invalidate a QR code already scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def do_confirm_enrolment(user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with a code from the app; returns it and the recovery
    codes (shown once)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise ActionError(_("Start again: scan the new QR code."), "no_pending_device")
    if not device.verify_token(code.strip().replace(" ", "")):
        raise ActionError(
            _("That code is not right: check the time on your phone and try the next one."), "invalid_code"
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit.two_factor_enabled(actor=user)
    return device, codes


def verify(user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """The device a login code belongs to (an authenticator code or a recovery code), or
    None. django-otp throttles each device after failures (a growing delay)."""
    code = code.strip().replace(" ", "").replace("-", "")
    device = confirmed_device(user)
    if device is not None and code.isdigit() and device.verify_token(code):
        return device
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if recovery is not None and not code.isdigit() and recovery.verify_token(code.lower()):
        audit.recovery_code_used(actor=user, remaining=recovery.token_set.count())
        return recovery
    return None


def throttled(user: User) -> bool:
    device = confirmed_device(user)
    return device is not None and not device.verify_is_allowed()[0]


def do_new_recovery_codes(user: User, code: str) -> list[str]:
    device = confirmed_device(user)
    if device is None or not device.verify_token(code.strip().replace(" ", "")):
        raise ActionError(_("That code is not right."), "invalid_code")
    return _new_recovery_codes(user)


def do_disable(user: User, code: str) -> None:
    """The agent turns it off (a current code proves it is them), unless it is required."""
    if required_for(user):
        raise ActionError(_("Your organisation requires two-factor login for you."), "required")
    device = confirmed_device(user)
    if device is None or not device.verify_token(code.strip().replace(" ", "")):
        raise ActionError(_("That code is not right."), "invalid_code")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.two_factor_disabled(actor=user, agent=user)


def do_reset(admin: User, agent: User) -> None:
    """An admin clears an agent's devices (a lost phone, no recovery code left): the agent
    enrols again at the next login if the organisation requires it."""
    require_admin(admin)
    if agent.organization_id != admin.organization_id:
        raise ActionError(_("No such agent."), "not_found")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=agent).delete()
        StaticDevice.objects.filter(user=agent).delete()
        audit.two_factor_disabled(actor=admin, agent=agent)
