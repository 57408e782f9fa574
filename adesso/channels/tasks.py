"""Background work of the inbound pipeline, run by the task worker."""

from django_tasks import default_task_backend, task

from adesso.channels.pipeline import do_process_events, started_processing

# Before the outbox's sends (priority 0): a customer's message is filed, routed and its
# acknowledgement written first; the acknowledgements go out as soon as the worker is free.
# Where the backend orders by priority (the database's); RQ refuses a priority: there
# the queue is first come, first served.
PRIORITY = 10 if default_task_backend.supports_priority else 0


@task(priority=PRIORITY)
def process_inbound() -> int:
    """Process due inbound events until none is left (duplicate jobs claim nothing).
    While a backlog lasts it asks for one more such task, which another worker takes."""
    started_processing()
    return do_process_events()
