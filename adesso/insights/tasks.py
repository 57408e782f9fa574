"""Background work of the insights, run by the task worker."""

import datetime as dt

from django.utils import timezone
from django_tasks import task

from adesso.channels.pipeline import customers_waiting
from adesso.insights.analyse import analyse_batch, has_pending
from adesso.lib.queues import on_queue

# While customers' messages wait to be processed (a burst), the analysis steps aside for
# this long and looks again: on a 2-core machine it took a quarter of the CPU a burst
# needed, even at a lower priority (docs/performance.md). It catches up afterwards.
STEP_ASIDE = dt.timedelta(seconds=1)


@task()
def analyse_messages() -> int:
    """One batch of customer messages' sentiment; enqueued again while more wait."""
    if analyse_messages.get_backend().supports_defer and customers_waiting():
        enqueue_analysis(after=STEP_ASIDE)
        return 0
    done, _ = analyse_batch()
    if done and has_pending():
        enqueue_analysis()
    return done


def enqueue_analysis(after: dt.timedelta | None = None) -> None:
    """Nobody waits for it: on the `background` queue, which `adesso worker` runs in a child
    process at a lower priority, so seconds of model work never hold a customer's message back (when the
    configured backend has no such queue, as in tests, on its default one). `after`: not before then."""
    queued = on_queue(analyse_messages, "background")
    if after is not None:
        queued = queued.using(run_after=timezone.now() + after)
    queued.enqueue()
