"""The background task worker, whichever backend is configured.

Two queues: `default`, what a customer or an agent waits for (inbound processing,
acknowledgements, replies going out), and `background`, what nobody waits for
(the insights' analysis, seconds of model work). On the database backend the worker
runs `background` in a child process of its own (`--background`: another interpreter,
so the analysis takes neither the `default` loop's turn nor its GIL), so a long analysis
never holds a customer's acknowledgement back (bench/webchat.py measured up to 6 s
behind one); the `default` loop looks for work every 0.1 s (a claim is one indexed
query). The child stops with its parent. On RQ one worker takes both queues,
`default` first.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

# The interactive loop's wait when the queue is empty: the most a new task waits for it.
INTERVAL = 0.1
BACKGROUND_INTERVAL = 1.0
BACKGROUND_NICENESS = 10
PR_SET_PDEATHSIG = 1  # prctl(2)


class Command(BaseCommand):
    help = "Run the task worker: the database worker by default, the RQ worker when REDIS_URL is set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="run queued tasks, then exit")
        parser.add_argument(
            "--background", action="store_true", help="run only the background queue (the worker starts this itself)"
        )

    def handle(self, *args: Any, batch: bool, background: bool, **options: Any) -> None:
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
            elif background:
                call_command("db_worker", queue_name="background", interval=BACKGROUND_INTERVAL, startup_delay=False)
            else:
                child = _start_background()
                try:
                    call_command(
                        "db_worker",
                        queue_name="*",
                        exclude_queues="background",
                        interval=INTERVAL,
                        startup_delay=False,
                    )
                finally:
                    _stop(child)
        else:
            self.stdout.write(f"Tasks run inline with {backend}; no worker needed.")


def _start_background() -> subprocess.Popen[bytes]:
    """`adesso worker --background`, told to stop (SIGTERM) if this process dies first."""

    def die_with_parent() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        # Behind the customers' work on a busy machine: the analysis (seconds of model
        # work a batch) took a whole core from the inbound worker in the pipeline bench.
        with contextlib.suppress(OSError):
            os.nice(BACKGROUND_NICENESS)

    return subprocess.Popen(
        [sys.executable, "-m", "adesso", "worker", "--background"],
        preexec_fn=die_with_parent,
    )


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()  # it finishes its current task's turn, as db_worker does on SIGTERM
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
