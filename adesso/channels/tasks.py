"""Background work of the inbound pipeline, run by the task worker."""

from django_tasks import task

from adesso.channels.pipeline import do_process_events, started_processing


@task()
def process_inbound() -> int:
    """Process due inbound events until none is left (duplicate jobs claim nothing)."""
    started_processing()
    return do_process_events()
