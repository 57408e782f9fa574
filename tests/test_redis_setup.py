"""The scaled setup: with REDIS_URL, live updates cross processes and tasks run on RQ.

Runs against the real Redis on 127.0.0.1:6379 (started by .ci/run when absent).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from adesso.lib.codes import new_code
from adesso.realtime.consumers import AgentConsumer
from tests.builders import make_agent, make_org

REDIS_URL = os.environ.get("ADESSO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parent.parent
ADESSO = os.path.join(os.path.dirname(sys.executable), "adesso")

pytestmark = pytest.mark.django_db


def adesso(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([ADESSO, *args], capture_output=True, text=True, timeout=90, cwd=ROOT,
                          env={**clean, "REDIS_URL": REDIS_URL, "PYTHONPATH": str(ROOT), **env})


def test_live_update_published_by_another_process_reaches_the_agent_page():
    prefix = "adesso-test-" + new_code(6)
    layer = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                         "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix}}}
    agent = make_agent(make_org())

    @async_to_sync
    async def scenario() -> dict:
        communicator = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
        communicator.scope["user"] = agent
        connected, _ = await communicator.connect()
        assert connected
        script = (
            "from django.conf import settings;"
            f"settings.CHANNEL_LAYERS['default']['CONFIG']['prefix'] = {prefix!r};"
            "from adesso.realtime.publish import publish;"
            f"publish({agent.organization_id}, {{'conversation': 'abc', 'kind': 'message_received'}})"
        )
        import asyncio

        proc = await asyncio.create_subprocess_exec(
            ADESSO, "shell", "-c", script, cwd=ROOT,
            env={**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "REDIS_URL": REDIS_URL},
        )
        assert await proc.wait() == 0
        received = await communicator.receive_json_from(timeout=10)
        await communicator.disconnect()
        return received

    with override_settings(CHANNEL_LAYERS=layer):
        assert scenario() == {"conversation": "abc", "kind": "message_received"}


def test_websocket_refuses_anonymous_visitors():
    @async_to_sync
    async def scenario() -> bool:
        from django.contrib.auth.models import AnonymousUser

        communicator = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
        communicator.scope["user"] = AnonymousUser()
        connected, _ = await communicator.connect()
        return connected

    assert scenario() is False


def test_tasks_run_on_the_rq_worker(tmp_path):
    from tests.support.tasks import write_marker

    queue = "default"
    with override_settings(
        RQ_QUEUES={queue: {"URL": REDIS_URL}},
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue]}},
        INSTALLED_APPS=[*__import__("django.conf").conf.settings.INSTALLED_APPS, "django_rq", "django_tasks_rq"],
    ):
        import django_rq

        django_rq.get_queue(queue).empty()
        marker = tmp_path / "ran.txt"
        write_marker.enqueue(str(marker), "ciao")
        started = time.monotonic()
        result = adesso("worker", "--batch")
        assert result.returncode == 0, result.stderr
        assert marker.read_text() == "ciao"
        assert time.monotonic() - started < 60


def test_every_task_of_adesso_is_accepted_by_the_rq_backend():
    # A task the RQ backend refuses (a priority, an unknown queue) fails at import, in
    # every process of the scaled setup: the worker, the web process enqueueing it.
    script = (
        "import importlib, pkgutil, adesso;"
        "names = [m.name for m in pkgutil.walk_packages(adesso.__path__, 'adesso.')"
        " if m.name.endswith('.tasks')];"
        "[importlib.import_module(n) for n in names];"
        "from django_tasks import task_backends;"
        "print('tasks:', type(task_backends['default']).__name__, len(names))"
    )
    result = adesso("shell", "-c", script)
    assert result.returncode == 0, result.stderr
    backend, count = result.stdout.split("tasks:")[-1].split()
    assert backend == "RQBackend" and int(count) >= 4
