"""The supervisors' daily digest, sent once a day by the timer loop."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from adesso.accounts.models import Organization, Role, User
from adesso.reports.digest import render_digest
from adesso.reports.models import DigestRun
from adesso.reports.periods import default_timezone

log = logging.getLogger(__name__)

# Local time after which the day's digest goes out (yesterday is complete, people are in).
SEND_AFTER = dt.time(8, 0)


def do_send_digests(now: dt.datetime | None = None) -> int:
    """Send each organisation's supervisors and admins their digest, once a local day,
    after 08:00. Returns how many emails went out.

    Cheap when nothing is due: no query before 08:00, then one small query per tick.
    Each organisation's day is claimed with compare-and-set on DigestRun.sent_for,
    so two timer processes never send it twice. A failed email is logged, not retried
    (tomorrow's digest carries the silence list again).
    """
    now = now or timezone.now()
    local = now.astimezone(default_timezone())
    if local.time() < SEND_AFTER:
        return 0
    today = local.date()
    due = list(Organization.objects.exclude(digest_run__sent_for__gte=today).values_list("pk", flat=True))
    sent = 0
    for org_id in due:
        if _claim(org_id, today, now):
            sent += _send(org_id, now)
    return sent


def _claim(org_id: int, today: dt.date, now: dt.datetime) -> bool:
    """True for the one process that moves the organisation's row to today (or creates it)."""
    if DigestRun.objects.filter(organization_id=org_id, sent_for__lt=today).update(sent_for=today, sent_at=now):
        return True
    try:
        with transaction.atomic():
            DigestRun.objects.create(organization_id=org_id, sent_for=today, sent_at=now)
        return True
    except IntegrityError:  # another process claimed today first
        return False


def _send(org_id: int, now: dt.datetime) -> int:
    recipients = User.objects.filter(
        organization_id=org_id, is_active=True, role__in=[Role.SUPERVISOR, Role.ADMIN]
    ).order_by("pk")
    sent = 0
    for user in recipients:
        subject, text, html = render_digest(user, now)
        try:
            send_mail(subject, text, None, [user.email], html_message=html)
            sent += 1
        except Exception:
            log.exception("daily digest to user %s failed", user.pk)
    return sent
