"""Background work of the outbox, run by the task worker."""

from django_tasks import task

from adesso.outbox.actions import do_deliver


@task()
def deliver(delivery_id: int) -> str:
    """Send one outbox row (see do_deliver: duplicate jobs send nothing)."""
    return do_deliver(delivery_id)


@task()
def deliver_many(delivery_ids: list[int]) -> int:
    """Send the outbox rows a batch of the inbound pipeline queued (acknowledgements),
    one after the other; returns how many were sent."""
    return sum(1 for pk in delivery_ids if do_deliver(pk) == "sent")
