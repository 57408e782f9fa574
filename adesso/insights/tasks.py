"""Background work of the insights, run by the task worker."""

from django_tasks import task

from adesso.insights.analyse import analyse_batch, has_pending


@task()
def analyse_messages() -> int:
    """One batch of customer messages' sentiment; enqueued again while more wait."""
    done, _ = analyse_batch()
    if done and has_pending():
        analyse_messages.enqueue()
    return done
