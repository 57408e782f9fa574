"""Background work of the outbox, run by the task worker.

On the `outbox` queue when the backend has one: `adesso worker` runs it in a process of
its own beside the inbound processing (the `default` queue), so a burst of customers'
messages never holds their acknowledgements back until it ends, and the agents' replies
go out while the worker files new messages.
"""

from typing import Any

from django_tasks import task
from django_tasks.base import Task

from adesso.lib.queues import on_queue
from adesso.outbox.actions import do_deliver, do_deliver_many


@task()
def deliver(delivery_id: int) -> str:
    """Send one outbox row (see do_deliver: duplicate jobs send nothing)."""
    return do_deliver(delivery_id)


@task()
def deliver_many(delivery_ids: list[int]) -> int:
    """Send the outbox rows a batch of the inbound pipeline queued (acknowledgements),
    claimed and recorded by chunks (see do_deliver_many); returns how many were sent."""
    return do_deliver_many(delivery_ids)


QUEUE = "outbox"


def on_outbox_queue(queued: Task[Any, Any]) -> Task[Any, Any]:
    """The task on the `outbox` queue, where the backend has one (tests' may not)."""
    return on_queue(queued, QUEUE)
