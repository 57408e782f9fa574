"""The insights' timer step and its progress records.

- Topics are found again once a day per organisation (`TOPICS_EVERY`): the timer
  creates a queued `InsightsRun` (the constraint "one queued or running per
  organisation and kind" is the compare-and-set: two timer processes never queue two)
  and enqueues `find_topics`, which runs `do_find_topics` (stable: known topics keep
  their codes, names and merges), then suggests a process for each new topic.
- A large backlog of customer messages waiting for their sentiment (an import, the
  first start on an old database) is worked by the worker batch after batch
  (adesso/insights/analyse.py); here an `InsightsRun` of kind `analysis` records how
  far it got, updated at most once a minute, so the report page shows its progress.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django_tasks import task

from adesso.accounts.models import Organization
from adesso.conversations.models import Direction, Message
from adesso.insights.models import InsightsRun, MessageSentiment
from adesso.lib.queues import on_queue

TOPICS_EVERY = dt.timedelta(days=1)
BACKLOG_MIN = 500  # fewer waiting messages are "as they come", not a backlog with a bar
BACKLOG_CHECK_SECONDS = 60.0
WINDOW = 2000  # as analyse.py: ids below the highest analysed one may still wait
STALE = dt.timedelta(hours=6)  # a queued or running run this old was lost (a worker died)

_last_backlog_check = 0.0


def enabled() -> bool:
    from adesso.insights.analyse import enabled as analysis_enabled

    return analysis_enabled()


def _queue(organization_id: int, kind: str, now: dt.datetime, **fields: Any) -> InsightsRun | None:
    try:
        with transaction.atomic():
            return InsightsRun.objects.create(
                organization_id=organization_id, kind=kind, created_at=now, updated_at=now, **fields
            )
    except IntegrityError:  # one is queued or running already
        return None


def do_dispatch_topics(now: dt.datetime | None = None) -> int:
    """Queue topic finding for every organisation whose last run is a day old (or that
    never had one); returns how many were queued."""
    now = now or timezone.now()
    # Runs lost with their worker are closed, so the next can be queued.
    InsightsRun.objects.filter(
        state__in=[InsightsRun.State.QUEUED, InsightsRun.State.RUNNING], updated_at__lt=now - STALE
    ).update(state=InsightsRun.State.FAILED, finished_at=now)
    last = dict(
        InsightsRun.objects.filter(kind=InsightsRun.Kind.TOPICS)
        .values("organization_id")
        .annotate(at=Max("created_at"))
        .values_list("organization_id", "at")
    )
    queued = 0
    waiting: bool | None = None
    for org_id in Organization.objects.values_list("pk", flat=True):
        if org_id in last and last[org_id] > now - TOPICS_EVERY:
            continue
        if org_id not in last:
            # The first topics wait until the messages already there have their sentiment
            # (a fresh install on an old database, the demo): found on a part of them, they
            # would stand for a day.
            if waiting is None:
                from adesso.insights.analyse import has_pending

                waiting = has_pending()
            if waiting:
                continue
        run = _queue(org_id, InsightsRun.Kind.TOPICS, now, total=2)
        if run is not None:
            # Seconds of clustering nobody waits for: beside the analysis, never ahead of
            # a customer's message (the default queue), where the backend has that queue.
            on_queue(find_topics, "background").enqueue(run.pk)
            queued += 1
    return queued


@task()
def find_topics(run_id: int) -> dict[str, int]:
    """The worker's part: find the organisation's topics again, then suggest a process
    for each topic that has none; the run records each step."""
    from adesso.insights.processes import do_suggest_processes
    from adesso.insights.topics import do_find_topics

    claimed = InsightsRun.objects.filter(pk=run_id, state=InsightsRun.State.QUEUED).update(
        state=InsightsRun.State.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    if not claimed:
        return {}
    run = InsightsRun.objects.select_related("organization").get(pk=run_id)
    try:
        counts = do_find_topics(run.organization)
        _advance(run, 1, counts)
        counts["suggested"] = do_suggest_processes(run.organization)
    except Exception:
        InsightsRun.objects.filter(pk=run_id).update(
            state=InsightsRun.State.FAILED, finished_at=timezone.now(), updated_at=timezone.now()
        )
        raise
    now = timezone.now()
    InsightsRun.objects.filter(pk=run_id).update(
        state=InsightsRun.State.DONE, done=2, result=counts, finished_at=now, updated_at=now
    )
    return counts


def _advance(run: InsightsRun, done: int, result: dict[str, int]) -> None:
    InsightsRun.objects.filter(pk=run.pk).update(done=done, result=result, updated_at=timezone.now())


def waiting_by_organization() -> dict[int, int]:
    """Customer messages waiting for their sentiment, per organisation (one grouped query
    over the ids after the analysis's cursor)."""
    cursor = MessageSentiment.objects.aggregate(last=Max("message_id"))["last"] or 0
    rows = (
        Message.objects.filter(
            id__gt=max(0, cursor - WINDOW),
            direction=Direction.INCOMING,
            internal=False,
            auto=False,
            sentiment__isnull=True,
        )
        .exclude(text="")
        .values("organization_id")
        .annotate(n=Count("id"))
        .values_list("organization_id", "n")
    )
    return dict(rows)


def do_record_backlog(now: dt.datetime | None = None, force: bool = False) -> int:
    """Start, advance or close each organisation's `analysis` run from the count of
    messages still waiting; returns how many runs changed. At most once a minute per
    timer process unless `force`."""
    global _last_backlog_check
    if not force and time.monotonic() - _last_backlog_check < BACKLOG_CHECK_SECONDS:
        return 0
    _last_backlog_check = time.monotonic()
    now = now or timezone.now()
    waiting = waiting_by_organization()
    running = {
        r.organization_id: r
        for r in InsightsRun.objects.filter(kind=InsightsRun.Kind.ANALYSIS, state=InsightsRun.State.RUNNING)
    }
    changed = 0
    for org_id, run in running.items():
        left = waiting.get(org_id, 0)
        if left > run.total:  # more arrived than it started with: the bar grows
            run.total = run.done + left
        run.done = max(0, run.total - left)
        run.updated_at = now
        fields = ["done", "total", "updated_at"]
        if not left:
            run.state, run.finished_at = InsightsRun.State.DONE, now
            fields += ["state", "finished_at"]
        run.save(update_fields=fields)
        changed += 1
    for org_id, left in waiting.items():
        if org_id not in running and left >= BACKLOG_MIN:
            if (
                _queue(
                    org_id, InsightsRun.Kind.ANALYSIS, now, state=InsightsRun.State.RUNNING, total=left, started_at=now
                )
                is not None
            ):
                changed += 1
    return changed


def do_tick(now: dt.datetime | None = None) -> int:
    """The timer's step (adesso/ops/timers.py)."""
    if not enabled():
        return 0
    return do_dispatch_topics(now) + do_record_backlog(now)


def latest_runs(organization_id: int) -> dict[str, InsightsRun]:
    """The latest run of each kind, for the report page."""
    out: dict[str, InsightsRun] = {}
    for kind in InsightsRun.Kind.values:
        run = InsightsRun.objects.filter(organization_id=organization_id, kind=kind).order_by("-created_at").first()
        if run is not None:
            out[kind] = run
    return out
