"""The background task worker, whichever backend is configured.

Two queues: `default`, what a customer or an agent waits for (inbound processing,
acknowledgements, replies going out), and `background`, what nobody waits for
(the insights' analysis, seconds of model work). On the database backend the worker
runs a loop for each, in two threads of this process, so a long analysis never holds a
customer's acknowledgement back (bench/webchat.py measured up to 6 s behind one); the
`default` loop looks for work every 0.1 s (a claim is one indexed query). On RQ one
worker takes both queues, `default` first.
"""

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

# The interactive loop's wait when the queue is empty: the most a new task waits for it.
INTERVAL = 0.1
BACKGROUND_INTERVAL = 1.0


class Command(BaseCommand):
    help = "Run the task worker: the database worker by default, the RQ worker when REDIS_URL is set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="run queued tasks, then exit")

    def handle(self, *args: Any, batch: bool, **options: Any) -> None:
        backend = str(settings.TASKS["default"]["BACKEND"])
        if backend.startswith("django_tasks_rq"):
            call_command(
                "rqworker",
                "default",
                "background",
                burst=batch,
                with_scheduler=False,
                # django-tasks-rq's Job records results the task interface reads.
                job_class="django_tasks_rq.backend.Job",
            )
        elif backend.startswith("django_tasks_db"):
            if batch:
                call_command("db_worker", queue_name="*", interval=INTERVAL, batch=True, startup_delay=False)
                return
            background = _background_loop()
            try:
                call_command(
                    "db_worker",
                    queue_name="*",
                    exclude_queues="background",
                    interval=INTERVAL,
                    startup_delay=False,
                )
            finally:
                background.running = False  # it stops after its current task
        else:
            self.stdout.write(f"Tasks run inline with {backend}; no worker needed.")


def _background_loop() -> Any:
    """The `background` queue's loop, in a daemon thread (signals stay with the main one)."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
    from django_tasks.utils import get_random_id
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["background"],
        interval=BACKGROUND_INTERVAL,
        batch=False,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=get_random_id(),
        excluded_queue_names=[],
    )
    threading.Thread(target=worker.run, name="background-tasks", daemon=True).start()
    return worker
