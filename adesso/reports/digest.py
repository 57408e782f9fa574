"""The supervisors' daily digest: yesterday's figures and who is waiting in silence now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from adesso.accounts.models import User
from adesso.conversations.queries import silent
from adesso.front.templatetags.adesso_front import duration_text
from adesso.reports import queries
from adesso.reports.display import figures_row
from adesso.reports.periods import Period, default_timezone

SILENT_LISTED = 25


def digest_context(user: User, now: dt.datetime) -> dict[str, Any]:
    """What the digest shows `user` (their organisation, scoped like the reports)."""
    tz = default_timezone()
    day = now.astimezone(tz).date() - dt.timedelta(days=1)
    totals, groups = queries.first_responses(user, Period(day, day, tz), "channel", now)
    waiting = silent(user)
    listed = list(waiting[:SILENT_LISTED])
    return {
        "day": day,
        "totals": figures_row(totals.as_dict()),
        "groups": [figures_row(g.as_dict()) for g in groups],
        "silent": [
            {"conversation": c, "waited": duration_text(c.waiting_seconds(now) or 0)} for c in listed
        ],
        "silent_count": waiting.count() if len(listed) == SILENT_LISTED else len(listed),
        "site_url": settings.SITE_URL.rstrip("/"),
        "recipient": user,
    }


def render_digest(user: User, now: dt.datetime) -> tuple[str, str, str]:
    """Subject, plain text and HTML of `user`'s digest, in their language."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = digest_context(user, now)
        subject = _("Adesso: the day of %(day)s, and who is waiting") % {
            "day": date_format(context["day"], "DATE_FORMAT")}
        text = render_to_string("reports/digest.txt", context)
        html = render_to_string("reports/digest.html", context)
    return subject, text, html
