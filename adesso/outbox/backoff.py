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


def retry_delay(
    attempts: int, retry_after: float | None = None, rand: Callable[[], float] = random.random
) -> dt.timedelta | None:
    """The wait before the next attempt after `attempts` failed ones (1 or more), at
    least `retry_after` seconds; None when no attempt is left."""
    if attempts >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[max(attempts, 1) - 1]
    seconds = base * (1 - JITTER + 2 * JITTER * rand())
    if retry_after is not None:
        seconds = max(seconds, retry_after)
    return min(dt.timedelta(seconds=seconds), MAX_DELAY)
