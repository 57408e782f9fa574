"""When to try a delivery again: a pure function of the attempts made so far."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

# Seconds to wait after the 1st, 2nd, ... failed attempt. The last retry happens
# about a day after the first try; then the delivery fails.
RETRY_DELAYS = (30, 2 * 60, 10 * 60, 60 * 60, 3 * 60 * 60, 6 * 60 * 60, 12 * 60 * 60)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# However long a provider asks us to wait (Retry-After), we try again within a day.
MAX_DELAY = dt.timedelta(days=1)
# +/- 20%, so the deliveries that failed together during an outage do not all come
# back in the same second.
JITTER = 0.2
# A provider that says when to come back (Telegram's 429 `retry_after`, an HTTP
# Retry-After) is taken at its word: the retry comes then, a little later (up to a
# fifth, at least a second, so a burst told to wait together does not return in one
# instant), never sooner than MIN_RETRY_AFTER.
MIN_RETRY_AFTER = 1.0
RETRY_AFTER_SPREAD = 0.2
# Such a wait is the provider pacing us, not the send failing: the first PACED_ATTEMPTS
# attempts come back after it alone; later ones wait at least the schedule's step
# counted from there as well, so a server that always answers "503, Retry-After: 1"
# is still tried for about a day, not given up on within a minute.
PACED_ATTEMPTS = 5


def retry_delay(
    attempts: int, retry_after: float | None = None, rand: Callable[[], float] = random.random
) -> dt.timedelta | None:
    """The wait before the next attempt after `attempts` failed ones (1 or more); None
    when no attempt is left. With `retry_after` (seconds the provider asked for): that
    long and up to a fifth (at least a second) more, at least 1 s and at most a day."""
    jitter = 1 - JITTER + 2 * JITTER * rand()
    if retry_after is None or retry_after < 0:
        if attempts >= MAX_ATTEMPTS:
            return None
        seconds = RETRY_DELAYS[max(attempts, 1) - 1] * jitter
    else:
        if attempts >= MAX_ATTEMPTS + PACED_ATTEMPTS:
            return None
        wait = max(float(retry_after), MIN_RETRY_AFTER)
        seconds = wait + max(1.0, RETRY_AFTER_SPREAD * wait) * rand()
        if attempts > PACED_ATTEMPTS:
            seconds = max(seconds, RETRY_DELAYS[attempts - PACED_ATTEMPTS - 1] * jitter)
    return min(dt.timedelta(seconds=seconds), MAX_DELAY)
