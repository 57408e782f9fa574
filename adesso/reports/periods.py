"""A report's period: whole local days, from one date to another (both included)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.lib.errors import ActionError

MAX_DAYS = 366
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    tz: ZoneInfo

    @property
    def start(self) -> dt.datetime:
        """Local midnight at the start of `first`, aware."""
        return dt.datetime.combine(self.first, dt.time(), self.tz)

    @property
    def end(self) -> dt.datetime:
        """Local midnight after `last` (excluded), aware."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), self.tz)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def hours(self) -> list[dt.datetime]:
        """The start of every local hour in the period (23 or 25 on the days clocks change)."""
        start, end = self.start.astimezone(dt.UTC), self.end.astimezone(dt.UTC)
        out = []
        t = start
        while t < end:
            out.append(t.astimezone(self.tz))
            t += dt.timedelta(hours=1)
        return out


def default_timezone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def parse_timezone(name: str | None) -> ZoneInfo:
    if not name:
        return default_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ActionError(_("Unknown time zone %(name)s; use a name such as Europe/Rome.") % {"name": name[:64]},
                          "invalid_period") from None


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ActionError(_("%(name)s must be a date as YYYY-MM-DD, not %(value)r.")
                          % {"name": name, "value": value[:40]}, "invalid_period") from None


def parse_period(first: str | None, last: str | None, tz_name: str | None = None,
                 today: dt.date | None = None) -> Period:
    """The period from two ISO dates; missing ones default to the last 7 days up to today.

    Every bad input is an ActionError with code "invalid_period" and a message
    saying what to send instead.
    """
    tz = parse_timezone(tz_name)
    today = today or timezone.now().astimezone(tz).date()
    last_date = _date(last, "to") if last else today
    first_date = _date(first, "from") if first else last_date - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first_date > last_date:
        raise ActionError(_("The period starts (%(first)s) after it ends (%(last)s).")
                          % {"first": first_date, "last": last_date}, "invalid_period")
    if (last_date - first_date).days + 1 > MAX_DAYS:
        raise ActionError(_("A period is at most %(days)d days long.") % {"days": MAX_DAYS}, "invalid_period")
    return Period(first_date, last_date, tz)
