"""The insights' analysis steps aside while customers' messages wait to be processed
(adesso/insights/tasks.py): nobody waits for it, and on a small machine it took a
quarter of the CPU a burst of new customers needed."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from adesso.channels.models import Channel
from adesso.channels.pipeline import accept, do_process_events
from adesso.channels.registry import get_kind
from adesso.insights.models import MessageSentiment
from adesso.insights.tasks import analyse_messages
from tests.builders import customer_writes, make_api_channel, make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def deferring_backend(settings):
    # A backend that keeps tasks and can run them later, as the worker's database backend.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default", "background"]}
    }
    from django_tasks import default_task_backend

    yield default_task_backend
    default_task_backend.clear()


def _telegram_update(channel: Channel, update_id: int) -> None:
    body = json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "from": {"id": 4242, "is_bot": False, "first_name": "Giulia", "language_code": "it"},
                "chat": {"id": 4242, "type": "private", "first_name": "Giulia"},
                "date": 1764856800,
                "text": "Il pacco è arrivato rotto, sono molto delusa.",
            },
        }
    ).encode()
    accept(channel, get_kind("telegram").identify(channel, body), body)


def test_the_analysis_waits_while_customers_messages_wait_then_catches_up(deferring_backend):
    org = make_org("Pasticceria Paziente")
    channel = Channel.objects.create(
        organization=org, kind="telegram", name="Bot", config={"bot_token": "1:" + "A" * 35, "webhook_secret": "s"}
    )
    customer_writes(make_api_channel(org), "Ottimo servizio, grazie mille!")
    _telegram_update(channel, 1)  # a burst has begun: an event waits to be processed

    assert analyse_messages.call() == 0
    assert not MessageSentiment.objects.exists()
    [later] = [r for r in deferring_backend.results if r.task.func is analyse_messages.func]
    assert later.task.queue_name == "background"
    assert later.task.run_after is not None and later.task.run_after > timezone.now()

    do_process_events()  # the burst is over
    assert analyse_messages.call() == 2
    assert MessageSentiment.objects.count() == 2
