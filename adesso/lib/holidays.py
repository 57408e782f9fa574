"""Italian national holidays, computed (no data file, no download)."""

import datetime as dt
from functools import cache


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter (the anonymous algorithm of Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@cache
def italian_holidays(year: int) -> frozenset[dt.date]:
    """Public holidays valid in all of Italy (not local patron saints)."""
    fixed = [(1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26)]
    days = {dt.date(year, m, d) for m, d in fixed}
    if year >= 2026:
        days.add(dt.date(year, 10, 4))  # San Francesco, national holiday again from 2026
    easter = easter_sunday(year)
    days |= {easter, easter + dt.timedelta(days=1)}
    return frozenset(days)
