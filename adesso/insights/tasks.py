"""Background work of the insights, run by the task worker."""

import datetime as dt

from django.core.cache import caches
from django.utils import timezone
from django_tasks import task

from adesso.channels.pipeline import customers_waiting
from adesso.insights.analyse import analyse_batch, has_pending
from adesso.lib.queues import on_queue

# While customers' messages wait to be processed (a burst), the analysis steps aside for
# this long and looks again: on a 2-core machine it took a quarter of the CPU a burst
# needed, even at a lower priority (docs/performance.md). It catches up afterwards.
STEP_ASIDE = dt.timedelta(seconds=1)
# One chain of analysis tasks at a time (each enqueues the next while messages wait): the
# timer, which asks every second while messages wait, starts one only when none is on its
# way. Each task renews the mark; a chain lost with its worker is replaced after this.
CHAIN_KEY = "adesso:insights:analysis-chain"
CHAIN_SECONDS = 300


@task()
def analyse_messages() -> int:
    """One batch of customer messages' sentiment; enqueued again while more wait."""
    chain = caches["shared"]
    chain.set(CHAIN_KEY, 1, CHAIN_SECONDS)
    if analyse_messages.get_backend().supports_defer and customers_waiting():
        enqueue_analysis(after=STEP_ASIDE, chained=True)
        return 0
    done, _ = analyse_batch()
    if done and has_pending():
        enqueue_analysis(chained=True)
    else:
        chain.delete(CHAIN_KEY)  # the chain ends: the timer starts the next one when needed
    return done


def enqueue_analysis(after: dt.timedelta | None = None, chained: bool = False) -> bool:
    """Nobody waits for it: on the `background` queue, which `adesso worker` runs in a child
    process at a lower priority, so seconds of model work never hold a customer's message back (when the
    configured backend has no such queue, as in tests, on its default one). `after`: not before then.
    `chained`: the next task of a running chain; else only if no chain is on its way (a
    burst's step-aside tasks once piled up, one more each second of the timer). Returns
    whether a task was enqueued."""
    if not chained and not caches["shared"].add(CHAIN_KEY, 1, CHAIN_SECONDS):
        return False
    queued = on_queue(analyse_messages, "background")
    if after is not None:
        queued = queued.using(run_after=timezone.now() + after)
    queued.enqueue()
    return True
