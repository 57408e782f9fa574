"""One tick of every timer: the work of `adesso runtimers` (and of `adesso simulate`).

Each step claims due rows through indexed due columns with compare-and-set, so
several timer processes may run at once and a tick never rescans all open
conversations.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from adesso.autoreply.actions import do_check_promises
from adesso.channels.pipeline import do_dispatch_due_events
from adesso.conversations.actions import do_wake_snoozed
from adesso.insights.analyse import do_dispatch_analysis
from adesso.insights.schedule import do_tick as do_insights_tick
from adesso.outbox.actions import do_retry_due_deliveries
from adesso.privacy.retention import do_run_due_retention
from adesso.routing.actions import do_assign_all_queued
from adesso.sla.actions import do_check_sla


def tick(now: dt.datetime | None = None, deliveries: bool = True) -> dict[str, int]:
    """Run every due timer once; returns how many rows each step handled."""
    now = now or timezone.now()
    done = {
        "snoozes": do_wake_snoozed(now),
        "sla": do_check_sla(now),
        "promises": do_check_promises(now),
        "queue": do_assign_all_queued(now),
        # Once a day per organisation with a retention policy (adesso/privacy/retention.py).
        "retention": do_run_due_retention(now),
    }
    if deliveries:
        done["deliveries"] = do_retry_due_deliveries(now)
        # Inbound events waiting (a lost task, a retry due, an expired lease): enqueue processing.
        done["inbound"] = do_dispatch_due_events(now)
        # Customer messages not yet analysed: enqueue a batch (adesso/insights/analyse.py).
        done["sentiment"] = do_dispatch_analysis()
        # Topics found again daily, and a backlog's progress (adesso/insights/schedule.py).
        done["insights"] = do_insights_tick(now)
    return done
