"""SLA clocks as pure functions: when a target falls due, when to warn.

A clock starts when the customer starts waiting, runs on the policy's
calendar (None = 24/7), pauses while the conversation waits on the customer
(pending), and is done when a human answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from adesso.lib.businesshours import Calendar, add_working_time, working_seconds_between

# Shares of the target at which the assignee is warned; 1.0 is the breach.
STAGES: tuple[float, ...] = (0.5, 0.75, 0.9, 1.0)


@dataclass(frozen=True)
class Clock:
    started_at: dt.datetime  # when the wait began (or resumed, with `used` already spent)
    target_seconds: int
    used_seconds: float = 0.0  # working time spent before a pause

    def due_at(self, calendar: Calendar | None) -> dt.datetime:
        return add_working_time(self.started_at, max(0.0, self.target_seconds - self.used_seconds), calendar)

    def stage_at(self, stage: float, calendar: Calendar | None) -> dt.datetime:
        """When `stage` (a share of the target) is reached."""
        remaining = self.target_seconds * stage - self.used_seconds
        return add_working_time(self.started_at, max(0.0, remaining), calendar)

    def spent(self, now: dt.datetime, calendar: Calendar | None) -> float:
        return self.used_seconds + working_seconds_between(self.started_at, now, calendar)

    def paused(self, now: dt.datetime, calendar: Calendar | None) -> Clock:
        """The clock as it stands when paused at `now` (resume with `resumed`)."""
        return Clock(now, self.target_seconds, self.spent(now, calendar))

    def resumed(self, now: dt.datetime) -> Clock:
        return Clock(now, self.target_seconds, self.used_seconds)


def current_stage(clock: Clock, now: dt.datetime, calendar: Calendar | None) -> int:
    """How many stages have been reached at `now` (0..len(STAGES))."""
    spent = clock.spent(now, calendar)
    return sum(1 for s in STAGES if spent >= s * clock.target_seconds)


def next_check_at(clock: Clock, reached: int, calendar: Calendar | None) -> dt.datetime | None:
    """When the stage after `reached` falls due; None after the breach."""
    if reached >= len(STAGES):
        return None
    return clock.stage_at(STAGES[reached], calendar)
