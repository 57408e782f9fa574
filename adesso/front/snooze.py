"""Snooze times from the agent's form: presets and datetime-local input, read in the
site's time zone (settings.TIME_ZONE), returned aware."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PRESETS = {
    "1h": _("1 hour"),
    "3h": _("3 hours"),
    "tomorrow": _("Tomorrow 9:00"),
    "monday": _("Monday 9:00"),
}


def _at_nine(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=tz)


def preset_time(preset: str, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime | None:
    """The moment a preset means at `now`, or None for an unknown preset."""
    local = now.astimezone(tz)
    if preset == "1h":
        return now + dt.timedelta(hours=1)
    if preset == "3h":
        return now + dt.timedelta(hours=3)
    if preset == "tomorrow":
        return _at_nine(local.date() + dt.timedelta(days=1), tz)
    if preset == "monday":
        days = 7 - local.weekday()  # next Monday, a week ahead when today is Monday
        return _at_nine(local.date() + dt.timedelta(days=days), tz)
    return None


def parse_until(preset: str, value: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """A preset wins; else a `YYYY-MM-DDTHH:MM` local time. None when neither is valid."""
    tz = timezone.get_default_timezone()
    now = now or timezone.now()
    if preset:
        return preset_time(preset, now, tz)
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return naive
    return timezone.make_aware(naive, tz)
