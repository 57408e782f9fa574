"""Background work of the inbound pipeline, run by the task worker."""

from django_tasks import task

from adesso.channels.pipeline import do_process_events, started_processing


# Before the outbox's sends (priority 0): a customer's message is filed, routed and its
# acknowledgement written first; the acknowledgements go out as soon as the worker is free.
@task(priority=10)
def process_inbound() -> int:
    """Process due inbound events until none is left (duplicate jobs claim nothing).
    While a backlog lasts it asks for one more such task, which another worker takes."""
    started_processing()
    return do_process_events()
