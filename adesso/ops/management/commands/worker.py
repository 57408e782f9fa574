"""The background task worker, whichever backend is configured.

Three queues: `default`, what a customer or an agent waits for (inbound processing),
`outbox`, the sends (acknowledgements, replies going out), and `background`, what
nobody waits for (the insights' analysis, seconds of model work). On the database
backend the worker runs `outbox` and `background` in child processes of their own
(`--outbox`, `--background`: other interpreters, so neither takes the `default` loop's
turn nor its GIL): a long analysis never holds a customer's acknowledgement back
(bench/webchat.py measured up to 6 s behind one), and a burst of inbound messages
never holds its own acknowledgements back until it ends (the inbound task, asked for
again while a burst lasts, was always first in one loop: bench/pipeline.py measured
acknowledgements sent 9-29 s after accept). The `default` and `outbox` loops look for
work every 0.1 s (a claim is one indexed query); the analysis runs at a lower
priority. The children stop with their parent. On RQ one worker takes the three
queues, `outbox` first (a send is a millisecond or two; several workers share a
burst on a cluster).
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
        parser.add_argument(
            "--outbox", action="store_true", help="run only the outbox queue (the worker starts this itself)"
        )

    def handle(self, *args: Any, batch: bool, background: bool, outbox: bool, **options: Any) -> None:
        backend = str(settings.TASKS["default"]["BACKEND"])
        if backend.startswith("django_tasks_rq"):
            call_command(
                "rqworker",
                "outbox",
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
            elif outbox:
                call_command("db_worker", queue_name="outbox", interval=INTERVAL, startup_delay=False)
            else:
                children = [_start_child("--outbox"), _start_child("--background", BACKGROUND_NICENESS)]
                try:
                    call_command(
                        "db_worker",
                        queue_name="*",
                        exclude_queues="outbox,background",
                        interval=INTERVAL,
                        startup_delay=False,
                    )
                finally:
                    for child in children:
                        _stop(child)
        else:
            self.stdout.write(f"Tasks run inline with {backend}; no worker needed.")


def _start_child(option: str, niceness: int = 0) -> subprocess.Popen[bytes]:
    """`adesso worker <option>`, told to stop (SIGTERM) if this process dies first."""

    def die_with_parent() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        # The analysis goes behind the customers' work on a busy machine: seconds of model
        # work a batch took a whole core from the inbound worker in the pipeline bench.
        if niceness:
            with contextlib.suppress(OSError):
                os.nice(niceness)

    # Our own interpreter and module, with an option of this file (no outside input).
    return subprocess.Popen([sys.executable, "-m", "adesso", "worker", option], preexec_fn=die_with_parent)  # noqa: S603


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()  # it finishes its current task's turn, as db_worker does on SIGTERM
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
