"""The analysis runs as one chain of tasks (adesso/insights/tasks.py): the timer, which
looks every second while customer messages wait, starts a chain only when none is on its
way. During a burst the chain's step-aside tasks once piled up, one more each second (the
pipeline bench saw the analysis children take a tenth of the CPU a burst needed)."""

from __future__ import annotations

import pytest

from adesso.channels.models import Channel
from adesso.channels.pipeline import do_process_events
from adesso.insights.analyse import do_dispatch_analysis
from adesso.insights.models import MessageSentiment
from adesso.insights.tasks import analyse_messages
from tests.builders import customer_writes, make_api_channel, make_org
from tests.test_insights_steps_aside import _telegram_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(settings):
    settings.INSIGHTS_ANALYSE_LIVE = True
    # A backend that keeps tasks and can run them later, as the worker's database backend.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default", "background"]}
    }
    from django_tasks import default_task_backend

    yield default_task_backend
    default_task_backend.clear()


def analysis_tasks(backend) -> list:
    return [r for r in backend.results if r.task.func is analyse_messages.func]


def a_burst_begins(org) -> None:
    channel = Channel.objects.create(
        organization=org, kind="telegram", name="Bot", config={"bot_token": "1:" + "A" * 35, "webhook_secret": "s"}
    )
    _telegram_update(channel, 7)  # an event waits to be processed


def test_the_timer_starts_one_chain_of_analysis_however_often_it_looks(queue):
    org = make_org("Pasticceria Costante")
    customer_writes(make_api_channel(org), "Ottimo servizio, grazie mille!")
    a_burst_begins(org)

    assert [do_dispatch_analysis() for _ in range(5)] == [1, 0, 0, 0, 0]
    assert len(analysis_tasks(queue)) == 1

    # The chain's task steps aside during the burst and enqueues its own next one; the
    # timer, looking again meanwhile, adds nothing.
    assert analyse_messages.call() == 0
    assert [do_dispatch_analysis() for _ in range(5)] == [0] * 5
    assert len(analysis_tasks(queue)) == 2

    do_process_events()  # the burst is over: the chain analyses, and ends
    assert analyse_messages.call() == 2
    assert MessageSentiment.objects.count() == 2
    assert do_dispatch_analysis() == 0  # nothing left to analyse

    customer_writes(make_api_channel(org), "Il rimborso non è ancora arrivato")
    assert do_dispatch_analysis() == 1  # new messages, no chain running: the timer starts one
