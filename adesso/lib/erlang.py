"""Queueing theory for staffing: Erlang C.

Arrivals are Poisson at `rate_per_hour`, handling times exponential with
mean `handle_seconds`, `agents` servers, first come first served.
"""

import math


def offered_load(rate_per_hour: float, handle_seconds: float) -> float:
    """Traffic in erlangs: how many agents would be busy on average."""
    return rate_per_hour * handle_seconds / 3600.0


def erlang_c(agents: int, load: float) -> float:
    """Probability that an arrival has to wait (0..1). 1 when the queue is unstable."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    b = 1.0  # Erlang B by the stable recursion
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return agents * b / (agents - load * (1 - b))


def service_level(agents: int, rate_per_hour: float, handle_seconds: float, target_seconds: float) -> float:
    """Share of arrivals answered within `target_seconds`."""
    load = offered_load(rate_per_hour, handle_seconds)
    if load <= 0:
        return 1.0
    if agents <= load:
        return 0.0
    wait = erlang_c(agents, load)
    return 1.0 - wait * math.exp(-(agents - load) * target_seconds / handle_seconds)


def mean_wait(agents: int, rate_per_hour: float, handle_seconds: float) -> float:
    """Average wait in seconds (infinite when unstable)."""
    load = offered_load(rate_per_hour, handle_seconds)
    if load <= 0:
        return 0.0
    if agents <= load:
        return math.inf
    return erlang_c(agents, load) * handle_seconds / (agents - load)


def agents_needed(
    rate_per_hour: float, handle_seconds: float, target_seconds: float, share: float,
    max_agents: int = 10_000,
) -> int:
    """The fewest agents that answer `share` (e.g. 0.95) of arrivals within the target."""
    if rate_per_hour <= 0:
        return 0
    n = max(1, math.floor(offered_load(rate_per_hour, handle_seconds)) + 1)
    while n <= max_agents:
        if service_level(n, rate_per_hour, handle_seconds, target_seconds) >= share:
            return n
        n += 1
    raise ValueError("the target cannot be met with a reasonable number of agents")
