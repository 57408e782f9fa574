"""Working-time arithmetic for SLA clocks: pure functions, no database.

A calendar is a weekly schedule of local opening intervals plus holidays, in
a time zone. `None` as calendar means 24/7: time simply passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class Calendar:
    timezone: str = "Europe/Rome"
    # weekday (0 = Monday) -> opening intervals, local time, end exclusive
    week: dict[int, tuple[Interval, ...]] = field(default_factory=dict)
    holidays: Callable[[int], frozenset[dt.date]] | None = None
    extra_closed: frozenset[dt.date] = frozenset()

    def is_closed_day(self, day: dt.date) -> bool:
        if day in self.extra_closed:
            return True
        return self.holidays is not None and day in self.holidays(day.year)

    def open_intervals(self, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Aware opening intervals that end after `start`, in order, forever."""
        if not any(self.week.values()):
            raise ValueError("a business-hours calendar needs at least one opening interval")
        tz = ZoneInfo(self.timezone)
        day = start.astimezone(tz).date()
        while True:
            if not self.is_closed_day(day):
                for open_t, close_t in self.week.get(day.weekday(), ()):
                    a = dt.datetime.combine(day, open_t, tz)
                    b = (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz)
                         if close_t == dt.time(0) else dt.datetime.combine(day, close_t, tz))
                    if b > start:
                        yield max(a, start), b
            day += dt.timedelta(days=1)


def add_working_time(start: dt.datetime, seconds: float, calendar: Calendar | None) -> dt.datetime:
    """The moment when `seconds` of working time have passed since `start`."""
    if calendar is None:
        return start + dt.timedelta(seconds=seconds)
    left = dt.timedelta(seconds=seconds)
    for a, b in calendar.open_intervals(start):
        if b - a >= left:
            return (a + left).astimezone(start.tzinfo)
        left -= b - a
    raise AssertionError("unreachable: open_intervals is infinite")


def working_seconds_between(start: dt.datetime, end: dt.datetime, calendar: Calendar | None) -> float:
    """Working time elapsed from `start` to `end` (0 if end <= start)."""
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds()
    total = 0.0
    for a, b in calendar.open_intervals(start):
        if a >= end:
            break
        total += (min(b, end) - a).total_seconds()
    return total
