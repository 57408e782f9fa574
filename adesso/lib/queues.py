"""Which task queue a task goes to.

`adesso worker` runs the queues named in settings.TASK_QUEUES in processes of their own
(adesso/ops/management/commands/worker.py); a backend configured without a queue (the
tests', a custom one) takes the task on its default queue instead.
"""

from typing import Any

from django_tasks.base import Task


def on_queue(task: Task[Any, Any], queue_name: str) -> Task[Any, Any]:
    """`task` on `queue_name` where its backend has that queue, else as it is."""
    return task.using(queue_name=queue_name) if queue_name in task.get_backend().queues else task
