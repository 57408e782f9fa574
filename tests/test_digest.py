"""The supervisors' daily digest: once a day after 08:00, in their language, never twice."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from adesso.reports.actions import _claim, do_send_digests
from adesso.reports.models import DigestRun
from tests.builders import make_agent, make_api_channel, make_org
from tests.test_reports import replies, writes

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=ROME)


def shop():
    org = make_org()
    agent = make_agent(org, "Giulia")
    sara = make_agent(org, "Sara", role="supervisor", language="en")
    anna = make_agent(org, "Anna", role="admin", language="it")
    ch = make_api_channel(org, "Sito web")
    quick = writes(at(4, 10), ch, "quick")
    replies(at(4, 10, 10), agent, quick)
    late = writes(at(4, 11), ch, "late")
    replies(at(4, 13), agent, late)
    older = writes(at(4, 16), ch, "older")  # still unanswered
    newer = writes(at(5, 7, 50), ch, "newer")
    return locals()


def send(now: dt.datetime) -> int:
    with time_machine.travel(now, tick=False):
        return do_send_digests(now)


def test_sent_once_a_day_after_eight_to_supervisors_and_admins_in_their_language():
    w = shop()
    assert send(at(5, 7, 59)) == 0
    assert mail.outbox == []
    assert send(at(5, 8, 1)) == 2
    assert send(at(5, 8, 2)) == 0 and send(at(5, 23, 59)) == 0
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {w["sara"].email, w["anna"].email}
    en, it = by_recipient[w["sara"].email], by_recipient[w["anna"].email]
    assert en.subject.startswith("Adesso: the day of")
    assert "Sito web: 3 conversations, 33.3 % answered within target, first response p50 10 min, p90 2 h" in en.body
    # The silence list: longest first, with how long.
    assert en.body.index(w["older"].code) < en.body.index(w["newer"].code)
    assert "silent for 16 h 1 min" in en.body
    assert "Waiting for a human answer now: 2 customers, longest first:" in en.body
    html = en.alternatives[0][0]
    assert en.alternatives[0][1] == "text/html" and w["older"].code in html
    assert "Ciao Anna" in it.body or "Buongiorno" in it.body
    assert "33,3 %" in it.body
    assert send(at(6, 8, 0)) == 2  # the next day
    assert len(mail.outbox) == 4


def test_each_organisation_gets_its_own_figures():
    mine = shop()
    other = make_org("Altra")
    boss = make_agent(other, "Piero", role="supervisor", language="en")
    assert send(at(5, 9)) == 3
    theirs = next(m for m in mail.outbox if m.to == [boss.email])
    assert mine["older"].code not in theirs.body
    assert "No new conversations." in theirs.body and "Nobody is waiting in silence." in theirs.body


def test_two_timer_processes_never_send_twice():
    org = make_org()
    today = dt.date(2026, 11, 5)
    assert _claim(org.pk, today, at(5, 9)) is True
    assert _claim(org.pk, today, at(5, 9)) is False  # the other process, same day
    assert DigestRun.objects.get(organization=org).sent_for == today
    assert _claim(org.pk, today + dt.timedelta(days=1), at(6, 9)) is True


def test_the_timer_loop_sends_it():
    w = shop()
    with time_machine.travel(at(5, 8, 30), tick=False):
        call_command("runtimers")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([w["sara"].email, w["anna"].email])
