"""`adesso worker` on the database backend: what a customer waits for (the `default`
queue) is never held behind what nobody waits for (the `background` queue: the
insights' analysis, seconds of model work). bench/webchat.py measured acknowledgements
6 s late behind one analysis before `background` had a process of its own. And the
sends (the `outbox` queue) are never held behind the inbound processing: during a
burst an inbound task was always waiting, and acknowledgements went out only after it."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import database_url

ROOT = Path(__file__).resolve().parent.parent
ADESSO = os.path.join(os.path.dirname(sys.executable), "adesso")

pytestmark = pytest.mark.django_db(transaction=True)


def written(path: Path) -> str:
    return path.read_text() if path.exists() else ""


@contextlib.contextmanager
def running_worker(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`adesso worker` as the Procfile runs it, on the test's database; stopped with
    SIGTERM at the end, which it must survive cleanly."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ADESSO_TASKS_BACKEND")}
    env.update(DATABASE_URL=database_url(), PYTHONPATH=str(ROOT), ADESSO_VAR_DIR=str(tmp_path / "var"))
    worker = subprocess.Popen([ADESSO, "worker"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()
    assert worker.returncode == 0, output


def wait_for(path: Path, worker: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Until a task wrote its marker, the worker died, or `seconds` passed."""
    deadline = time.monotonic() + seconds
    while not written(path) and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.05)


def test_a_long_background_task_does_not_hold_the_default_queue_back(settings, tmp_path):
    from tests.support.tasks import write_marker, write_marker_slowly

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    slow, quick = tmp_path / "slow", tmp_path / "quick"
    # Enqueued first, and the worker's loops take the oldest first: without a loop of its
    # own for `background`, the quick task would wait the slow one's 6 seconds.
    analysis = write_marker_slowly.using(queue_name="background").enqueue(str(slow), "analysed", 6.0)
    reply = write_marker.enqueue(str(quick), "sent")
    assert (analysis.task.queue_name, reply.task.queue_name) == ("background", "default")

    with running_worker(tmp_path) as worker:
        wait_for(quick, worker)
        assert written(quick) == "sent"
        assert not slow.exists()  # the analysis still runs in its own process
        # ... at a lower priority: on a busy machine the customers' work goes first.
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        niceness = [int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[16]) for child in children]
        assert sorted(niceness) == [os.nice(0), min(19, os.nice(0) + 10)]  # the outbox's, the analysis'

        wait_for(slow, worker)
        assert written(slow) == "analysed"
    analysis.refresh()
    reply.refresh()
    assert (analysis.status, reply.status) == ("SUCCESSFUL", "SUCCESSFUL")


def test_sends_are_not_held_behind_the_inbound_work(settings, tmp_path):
    from tests.support.tasks import write_marker, write_marker_slowly

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    slow, quick = tmp_path / "slow", tmp_path / "quick"
    # The inbound work first (a burst being filed), then an acknowledgement to send.
    filing = write_marker_slowly.enqueue(str(slow), "filed", 6.0)
    send = write_marker.using(queue_name="outbox").enqueue(str(quick), "sent")

    with running_worker(tmp_path) as worker:
        wait_for(quick, worker)
        assert written(quick) == "sent"
        assert not slow.exists()  # sent while the inbound work still runs
        wait_for(slow, worker)
        assert written(slow) == "filed"
    filing.refresh()
    send.refresh()
    assert (filing.status, send.status) == ("SUCCESSFUL", "SUCCESSFUL")


def test_the_outbox_tasks_go_to_the_outbox_queue(settings):
    from adesso.outbox.tasks import deliver, deliver_many, on_outbox_queue

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    assert on_outbox_queue(deliver).queue_name == on_outbox_queue(deliver_many).queue_name == "outbox"
    # A backend without that queue (a test's, a custom one): the default queue.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert on_outbox_queue(deliver).queue_name == "default"
