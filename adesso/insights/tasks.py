"""Background work of the insights, run by the task worker."""

from django_tasks import task

from adesso.insights.analyse import analyse_batch, has_pending


@task()
def analyse_messages() -> int:
    """One batch of customer messages' sentiment; enqueued again while more wait."""
    done, _ = analyse_batch()
    if done and has_pending():
        enqueue_analysis()
    return done


def enqueue_analysis() -> None:
    """Nobody waits for it: on the `background` queue, which `adesso worker` runs in a child
    process at a lower priority, so seconds of model work never hold a customer's message back (when the
    configured backend has no such queue, as in tests, on its default one)."""
    backend = analyse_messages.get_backend()
    if "background" in backend.queues:
        analyse_messages.using(queue_name="background").enqueue()
    else:
        analyse_messages.enqueue()
