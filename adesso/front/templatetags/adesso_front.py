"""Template filters of the agent UI: waiting times and dates, localised."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from adesso.formats import day_month
from adesso.lib.durations import duration_text

register = template.Library()


@register.filter
def waited(since: dt.datetime | None) -> str:
    """How long ago `since` was, as a short duration; empty when None."""
    if since is None:
        return ""
    return duration_text(max(0, int((timezone.now() - since).total_seconds())))


@register.filter
def waiting_level(since: dt.datetime | None) -> str:
    """A CSS class for a wait: over an hour breaks the promise (PRINCIPLES 1)."""
    if since is None:
        return ""
    seconds = (timezone.now() - since).total_seconds()
    if seconds >= 3600:
        return "wait-late"
    if seconds >= 900:
        return "wait-warn"
    return "wait-ok"


@register.filter
def time_left(due: dt.datetime | None) -> str:
    """Time until a service-level due time: "25 min", or "5 min late" once past."""
    if due is None:
        return ""
    seconds = int((due - timezone.now()).total_seconds())
    if seconds < 0:
        return _("%(duration)s late") % {"duration": duration_text(-seconds)}
    return duration_text(seconds)


@register.filter
def sla_level(conversation: object) -> str:
    """A CSS class for the time left: green, amber under 25% of the wait's hour, red when late."""
    due = getattr(conversation, "sla_due_at", None)
    if due is None:
        return ""
    seconds = (due - timezone.now()).total_seconds()
    if seconds <= 0:
        return "wait-late"
    if seconds <= 15 * 60:
        return "wait-warn"
    return "wait-ok"


@register.filter
def when(value: dt.datetime | None) -> str:
    """A compact local time: "14:05" today, "24 nov, 14:05" this year, else with the year."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return date_format(local, "H:i")
    if local.year == today.year:
        return date_format(local, day_month(time=True))
    return date_format(local, day_month(year=True, time=True))


@register.filter
def full_when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


@register.filter
def number(value: float | None) -> str:
    """A count or a figure for the agent's language: "1.234" in Italian, "1,234" in English."""
    from adesso.lib.charts import format_number

    return "" if value is None else format_number(value)


@register.filter
def identity_label(kind: str) -> str:
    """The translated name of an identity kind; a channel's own kinds stay as they are."""
    from adesso.contacts.models import IdentityKind

    try:
        return str(IdentityKind(kind).label)
    except ValueError:
        return kind


# -- ticking: the page's script rewrites waits and times left with these ----------------------


@register.filter
def iso(value: dt.datetime | None) -> str:
    """An instant for the page's script (data-since, data-due): UTC, milliseconds."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


@register.simple_tag
def live_texts() -> dict[str, object]:
    """duration_text's and time_left's wordings, for adesso.js to keep the times ticking
    (tests/browser/test_live_workspace.py checks both say the same), and the server's now."""
    return {
        "now": _("just now"),
        "min": _("%(minutes)d min"),
        "h": _("%(hours)d h"),
        "hmin": _("%(hours)d h %(minutes)d min"),
        "day": ngettext("%(days)d day", "%(days)d days", 1),
        "days": ngettext("%(days)d day", "%(days)d days", 2),
        "late": _("%(duration)s late"),
        "server_now": iso(timezone.now()),
    }
