"""Background work of the outbox, run by the task worker."""

from django_tasks import task

from adesso.outbox.actions import do_deliver


@task()
def deliver(delivery_id: int) -> str:
    """Send one outbox row (see do_deliver: duplicate jobs send nothing)."""
    return do_deliver(delivery_id)
