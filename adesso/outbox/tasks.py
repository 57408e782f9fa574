"""Background work of the outbox, run by the task worker."""

from django_tasks import task

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
