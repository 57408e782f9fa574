"""Business processes: seeded for every new organisation in Italian and English, a new
topic gets the process nearest its meaning, a supervisor maps topics and names owners
(the settings page), topics are found again daily by the timer with a progress record,
and a backlog of messages shows its progress."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation

from adesso.accounts.models import Role
from adesso.insights import schedule
from adesso.insights.analyse import analyse_batch
from adesso.insights.models import InsightsRun, MessageSentiment, Process, Topic
from adesso.insights.processes import display_name, do_suggest_processes
from adesso.insights.topics import do_find_topics
from tests.builders import customer_writes, make_agent, make_api_channel, make_org
from tests.test_insights_topics import BILLING, BROKEN, LATE, PRAISE

pytestmark = pytest.mark.django_db


def _shop():
    """Casalinghi Ferri: customers write about late deliveries, broken appliances and
    double charges, and praise the staff; everything analysed and clustered."""
    org = make_org("Casalinghi Ferri")
    ch = make_api_channel(org)
    for theme, texts in (("late", LATE), ("broken", BROKEN), ("billing", BILLING), ("praise", PRAISE)):
        for i, text in enumerate(texts):
            customer_writes(ch, text, sender_id=f"{theme}-{i}")
    while analyse_batch()[0]:
        pass
    return org, ch


def _topic_with(org, texts):
    """The topic most of these texts were filed in."""
    from collections import Counter

    found = MessageSentiment.objects.filter(organization=org, message__text__in=texts, topic__isnull=False)
    code = Counter(found.values_list("topic__code", flat=True)).most_common(1)[0][0]
    return Topic.objects.select_related("process").get(code=code)


def test_a_new_organisation_has_the_default_processes_in_italian_and_english():
    org = make_org("Ottica Bruni")
    processes = list(Process.objects.filter(organization=org).order_by("pk"))
    assert [p.key for p in processes] == ["delivery", "billing", "product", "staff", "website"]
    with translation.override("it"):
        assert [display_name(p) for p in processes] == [
            "Consegne",
            "Fatturazione e pagamenti",
            "Qualità del prodotto",
            "Personale e assistenza",
            "Sito web e app",
        ]
    with translation.override("en"):
        assert [display_name(p) for p in processes] == [
            "Delivery",
            "Billing and payments",
            "Product quality",
            "Staff and service",
            "Website and app",
        ]


def test_new_topics_get_the_nearest_process_and_a_supervisors_choice_stays():
    org, _ = _shop()
    do_find_topics(org, k=3)
    assert do_suggest_processes(org) >= 3
    themes = {"late": LATE, "broken": BROKEN, "billing": BILLING, "praise": PRAISE}
    keys = {name: _topic_with(org, texts).process.key for name, texts in themes.items()}
    assert keys == {"late": "delivery", "broken": "product", "billing": "billing", "praise": "staff"}

    # Marta, the supervisor, files the broken appliances under the website (by mistake):
    # her choice is kept by the next run and its suggestions.
    marta = make_agent(org, "Marta", role=Role.SUPERVISOR)
    client = Client()
    client.force_login(marta)
    broken = _topic_with(org, BROKEN)
    website = Process.objects.get(organization=org, key="website")
    r = client.post("/insights/processes", {"action": "map", "topic": broken.code, "process": website.code})
    assert r.status_code == 302
    do_find_topics(org, k=3)
    do_suggest_processes(org)
    broken.refresh_from_db()
    assert broken.process == website and broken.process_by_person


def test_the_settings_page_creates_renames_and_gives_an_owner():
    org = make_org("Ottica Bruni")
    marta = make_agent(org, "Marta", role=Role.SUPERVISOR, language="en")
    luca = make_agent(org, "Luca")
    client = Client()
    client.force_login(marta)
    r = client.post(
        "/insights/processes",
        {
            "action": "create",
            "name": "Resi e rimborsi",
            "description": "Resi, rimborsi, cambi merce",
            "owner": luca.code,
        },
    )
    assert r.status_code == 302
    returns = Process.objects.get(organization=org, name="Resi e rimborsi")
    assert returns.owner == luca
    delivery = Process.objects.get(organization=org, key="delivery")
    r = client.post(
        "/insights/processes",
        {
            "action": "update",
            "process": delivery.code,
            "name": "Spedizioni",
            "description": "Corrieri e pacchi",
            "owner": marta.code,
        },
    )
    assert r.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.name, delivery.owner) == ("Spedizioni", marta)
    page = client.get("/insights/processes")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Resi e rimborsi" in text and "Spedizioni" in text and "Billing and payments" in text
    # An empty name is refused with a message, nothing changes.
    r = client.post("/insights/processes", {"action": "update", "process": delivery.code, "name": " "})
    assert r.status_code == 400 and "1 to 120 characters" in r.content.decode()
    # Giulia, an agent, may not see it.
    giulia = make_agent(org, "Giulia")
    client.force_login(giulia)
    assert client.get("/insights/processes").status_code == 403


def test_topics_are_found_again_daily_by_the_timer_with_progress(settings):
    settings.INSIGHTS_ANALYSE_LIVE = True
    org, _channel = _shop()
    now = timezone.now()
    assert schedule.do_dispatch_topics(now) >= 1  # every organisation; ours ran at once (immediate tasks)
    run = InsightsRun.objects.get(organization=org, kind="topics")
    assert run.state == "done" and run.done == run.total == 2
    assert run.result["negative"] >= 2 and run.result["positive"] >= 1 and run.result["suggested"] >= 3
    codes = set(Topic.objects.filter(organization=org, active=True).values_list("code", flat=True))
    # Within the day nothing more is queued; a day later the topics are found again, the same.
    assert schedule.do_dispatch_topics(now + dt.timedelta(hours=3)) == 0
    assert schedule.do_dispatch_topics(now + dt.timedelta(days=1, minutes=1)) >= 1
    assert InsightsRun.objects.filter(organization=org, kind="topics", state="done").count() == 2
    assert set(Topic.objects.filter(organization=org, active=True).values_list("code", flat=True)) == codes


def test_only_one_run_is_queued_at_a_time(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    org = make_org("Ottica Bruni")
    now = timezone.now()
    schedule.do_dispatch_topics(now)
    # A second timer process queuing the same work while the first run still waits for
    # the worker: the constraint refuses it.
    assert schedule._queue(org.pk, "topics", now) is None
    assert InsightsRun.objects.filter(organization=org, kind="topics").count() == 1
    # A run lost with its worker is closed after a while, and the next is queued a day later.
    schedule.do_dispatch_topics(now + dt.timedelta(days=1, minutes=1))
    states = sorted(InsightsRun.objects.filter(organization=org, kind="topics").values_list("state", flat=True))
    assert states == ["failed", "queued"]


def test_finding_topics_waits_behind_the_customers_messages(settings):
    """Seconds of clustering go to the `background` queue (its own process, at a lower
    priority), never to the `default` one, where customers' messages are filed."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    make_org("Ottica Bruni")
    assert schedule.do_dispatch_topics(timezone.now()) >= 1
    queued = DBTaskResult.objects.filter(task_path="adesso.insights.schedule.find_topics")
    assert set(queued.values_list("queue_name", flat=True)) == {"background"}


def test_a_backlog_of_messages_shows_its_progress(monkeypatch):
    monkeypatch.setattr(schedule, "BACKLOG_MIN", 50)
    org = make_org("Ottica Bruni")
    ch = make_api_channel(org)
    for i in range(80):
        customer_writes(ch, f"Buongiorno, una domanda sull'ordine numero {i}", sender_id=f"c{i}")
    assert schedule.do_record_backlog(force=True) == 1
    run = InsightsRun.objects.get(organization=org, kind="analysis")
    assert (run.state, run.done, run.total) == ("running", 0, 80)
    analyse_batch()  # one batch of 64
    schedule.do_record_backlog(force=True)
    run.refresh_from_db()
    assert (run.state, run.done, run.total) == ("running", 64, 80)
    analyse_batch()
    schedule.do_record_backlog(force=True)
    run.refresh_from_db()
    assert (run.state, run.done) == ("done", 80) and run.finished_at is not None


def test_the_first_topics_wait_for_the_sentiment_of_the_messages_already_there(settings):
    # Found on a part of them (the demo's first tick, a fresh install on an old
    # database), the topics would stand for a day.
    from adesso.insights.analyse import analyse_batch

    settings.INSIGHTS_ANALYSE_LIVE = True
    org = make_org("Ottica Bruni")
    channel = make_api_channel(org)
    customer_writes(channel, "Gli occhiali sono arrivati con la lente graffiata.", sender_id="a")
    now = timezone.now()
    assert schedule.do_dispatch_topics(now) == 0
    assert not InsightsRun.objects.filter(organization=org, kind="topics").exists()
    while analyse_batch()[0]:
        pass
    assert schedule.do_dispatch_topics(now) >= 1
    assert InsightsRun.objects.get(organization=org, kind="topics").state == "done"
