"""The supervisors' daily digest: yesterday's figures and who is waiting in silence now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from adesso.accounts.models import User
from adesso.conversations.queries import silent
from adesso.lib.charts import format_number
from adesso.lib.durations import duration_text
from adesso.reports import queries
from adesso.reports.display import figures_row
from adesso.reports.periods import Period, default_timezone

SILENT_LISTED = 25


def _with_summary(row: dict[str, Any]) -> dict[str, Any]:
    """A row of figures plus its one-line summary for the plain-text mail, each count
    with its noun in the right number ("1 conversazione", "2 sforamenti")."""
    n, breaches = row["conversations"], row["breaches"]
    parts = [
        ngettext("%(n)s conversation", "%(n)s conversations", n) % {"n": format_number(n)},
        _("%(share)s answered within target") % {"share": row["share_text"]},
        _("first response p50 %(p50)s, p90 %(p90)s") % {"p50": row["p50_text"], "p90": row["p90_text"]},
        ngettext("%(n)s breach", "%(n)s breaches", breaches) % {"n": format_number(breaches)},
    ]
    return {**row, "summary": ", ".join(parts)}


def digest_context(user: User, now: dt.datetime) -> dict[str, Any]:
    """What the digest shows `user` (their organisation, scoped like the reports)."""
    tz = default_timezone()
    day = now.astimezone(tz).date() - dt.timedelta(days=1)
    totals, groups = queries.first_responses(user, Period(day, day, tz), "channel", now)
    waiting = silent(user)
    listed = list(waiting[:SILENT_LISTED])
    return {
        "day": day,
        "totals": _with_summary(figures_row(totals.as_dict())),
        "groups": [_with_summary(figures_row(g.as_dict())) for g in groups],
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
