"""`adesso worker` on the database backend: what a customer waits for (the `default`
queue) is never held behind what nobody waits for (the `background` queue: the
insights' analysis, seconds of model work). bench/webchat.py measured acknowledgements
6 s late behind one analysis before `background` had a process of its own."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.servers import database_url

ROOT = Path(__file__).resolve().parent.parent
ADESSO = os.path.join(os.path.dirname(sys.executable), "adesso")

pytestmark = pytest.mark.django_db(transaction=True)


def written(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def test_a_long_background_task_does_not_hold_the_default_queue_back(settings, tmp_path):
    from tests.support.tasks import write_marker, write_marker_slowly

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    slow, quick = tmp_path / "slow", tmp_path / "quick"
    # Enqueued first, and the worker's loops take the oldest first: without a loop of its
    # own for `background`, the quick task would wait the slow one's 6 seconds.
    analysis = write_marker_slowly.using(queue_name="background").enqueue(str(slow), "analysed", 6.0)
    reply = write_marker.enqueue(str(quick), "sent")
    assert (analysis.task.queue_name, reply.task.queue_name) == ("background", "default")

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ADESSO_TASKS_BACKEND")}
    env.update(DATABASE_URL=database_url(), PYTHONPATH=str(ROOT), ADESSO_VAR_DIR=str(tmp_path / "var"))
    worker = subprocess.Popen([ADESSO, "worker"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not written(quick) and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        assert written(quick) == "sent"
        assert not slow.exists()  # the analysis still runs in its own process
        # ... at a lower priority: on a busy machine the customers' work goes first.
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        niceness = [int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[16]) for child in children]
        assert niceness == [min(19, os.nice(0) + 10)]
        while not written(slow) and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        assert written(slow) == "analysed"
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()
    assert worker.returncode == 0, output
    analysis.refresh()
    reply.refresh()
    assert (analysis.status, reply.status) == ("SUCCESSFUL", "SUCCESSFUL")
