"""`adesso seeddemo`: a demo a team can try together, with weeks of history that the
reports, the planner, the coach's statistics and the silence guard show."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from adesso.accounts.models import Organization, User
from adesso.canned.models import CannedReply
from adesso.channels.actions import do_create_channel
from adesso.channels.base import InboundMessage, InboundSender
from adesso.channels.models import Channel
from adesso.coach.models import CoachRecord
from adesso.conversations.models import Conversation, ConversationEvent, Message, Status
from adesso.intake.actions import do_receive_message
from adesso.surveys.models import Survey
from tests.builders import AgentApi

pytestmark = pytest.mark.django_db

DEMO_EMAILS = [
    "admin@dolcevita.example",
    "giulia@dolcevita.example",
    "marco@dolcevita.example",
    "sarah@dolcevita.example",
]


def seeddemo() -> list[str]:
    out = StringIO()
    call_command("seeddemo", stdout=out)
    return out.getvalue().splitlines()


def logins(lines: list[str]) -> dict[str, str]:
    """The lines that are exactly `email password`."""
    pairs = [line.split(" ") for line in lines]
    return {words[0]: words[1] for words in pairs if len(words) == 2 and words[0].endswith("@dolcevita.example")}


def test_every_demo_agent_can_log_in_and_only_the_admin_starts_online():
    first = logins(seeddemo())
    second = logins(seeddemo())

    assert Organization.objects.filter(name="Pasticceria Dolce Vita").count() == 1
    assert sorted(second) == sorted(DEMO_EMAILS)
    assert not set(second.values()) & set(first.values())
    for email, password in second.items():
        assert Client().login(username=email, password=password), email
    presence = dict(User.objects.values_list("email", "presence"))
    assert presence == {
        "admin@dolcevita.example": "online",
        "giulia@dolcevita.example": "offline",
        "marco@dolcevita.example": "offline",
        "sarah@dolcevita.example": "offline",
    }
    # Canned replies to find with `/`, tags to filter by.
    assert CannedReply.objects.filter(owner__isnull=True).values("language").distinct().count() == 2
    assert Conversation.objects.filter(tags__isnull=False).exists()
    # Mario wrote on two channels (email and phone): one contact, two conversations.
    mario = Conversation.objects.filter(contact__name="Mario Bianchi")
    assert mario.values("contact").distinct().count() == 1
    assert mario.values("channel").distinct().count() == 2
    # Customers wait in the queue for the team: routing gives them to nobody who is away.
    assert Conversation.objects.filter(status=Status.OPEN, assignee__isnull=True, waiting_since__isnull=False).exists()
    assert not Conversation.objects.filter(
        assignee__presence="offline",
        waiting_since__isnull=False,
        status=Status.OPEN,
        queued_at__isnull=True,
        created_at__lt=timezone.now() - dt.timedelta(days=1),
    ).exists()


def test_four_weeks_of_traffic_fill_reports_planner_coach_and_silence_guard():
    seeddemo()
    admin = User.objects.get(email="admin@dolcevita.example")
    api = AgentApi(admin)
    today = timezone.localdate()

    report = api.get("/reports", **{"from": str(today - dt.timedelta(days=27)), "to": str(today)}).json()
    staffing = api.get("/reports/staffing", weeks=4).json()
    coach = api.get("/coach/stats", days=28).json()
    silence = api.get("/silence").json()

    channels = set(Channel.objects.values_list("name", flat=True))
    assert channels == {"Sito web", "App mobile", "WhatsApp (API)", "Email"}
    assert {g["name"] for g in report["groups"]} == channels
    assert all(g["conversations"] >= 30 for g in report["groups"])
    totals = report["totals"]
    assert totals["conversations"] >= 200
    assert totals["answered"] >= 180
    assert 0.6 <= totals["within_target_share"] < 1
    assert totals["breaches"] >= 10
    assert 5 * 60 <= totals["first_response_p50_s"] <= 45 * 60
    created = Conversation.objects.values_list("created_at", flat=True)
    assert dt.timedelta(days=27) <= timezone.now() - min(created) <= dt.timedelta(days=29)
    assert {(timezone.now() - c).days // 7 for c in created} >= {0, 1, 2, 3}
    languages = set(Conversation.objects.values_list("language", flat=True))
    assert {"it", "en"} <= languages
    assert max(h["agents"] for h in staffing["hours"]) >= 1
    assert staffing["customer_turns"] >= 200
    assert CoachRecord.objects.filter(serious__gt=0).exists()
    assert sum(coach["replies"]) >= 200
    assert sum(coach["totals"].values()) >= 3
    assert silence["count"] >= 3
    assert ConversationEvent.objects.filter(kind="status_changed", data__unanswered=True).exists()
    resolved = Conversation.objects.filter(status=Status.RESOLVED).exclude(assignee=None)
    assert resolved.values("assignee").distinct().count() == 4
    # The customers answered surveys, with reasons, in every week: the insights page's
    # CSAT chart and topics of praise have something to show.
    surveys = Survey.objects.filter(score__isnull=False)
    assert surveys.count() >= 60 and surveys.exclude(reason="").count() >= 30
    assert {s.sent_at.isocalendar()[1] for s in surveys} >= {
        (timezone.now() - dt.timedelta(weeks=w)).isocalendar()[1] for w in (1, 2, 3)
    }
    # The automatic messages say the shop's name as customers see it.
    surveys_sent = Message.objects.filter(auto=True, text__contains="Pasticceria Dolce Vita")
    assert surveys_sent.exists() and not Message.objects.filter(text__contains="(loading)").exists()


def test_a_demo_load_cut_short_loads_again_from_the_start():
    call_command(
        "createorg", "Pasticceria Dolce Vita (loading)", "--admin-email", "admin@dolcevita.example", stdout=StringIO()
    )
    unfinished = Organization.objects.get()
    ch, _token = do_create_channel(unfinished, "api", "Sito web")
    do_receive_message(ch, InboundMessage("m-1", InboundSender("c-1", name="Mario"), "Buongiorno"))

    lines = seeddemo()

    assert list(Organization.objects.values_list("name", flat=True)) == ["Pasticceria Dolce Vita"]
    assert sorted(logins(lines)) == sorted(DEMO_EMAILS)
    assert not Conversation.objects.filter(organization=unfinished).exists()


def test_a_demo_load_cut_short_by_the_current_marker_loads_again():
    # Since session 10 a load in progress is marked by its admin's address, not its name.
    call_command(
        "createorg", "Pasticceria Dolce Vita", "--admin-email", "loading.admin@dolcevita.example", stdout=StringIO()
    )
    unfinished = Organization.objects.get()

    lines = seeddemo()

    assert Organization.objects.filter(name="Pasticceria Dolce Vita").count() == 1
    assert not Organization.objects.filter(pk=unfinished.pk).exists()
    assert sorted(logins(lines)) == sorted(DEMO_EMAILS)
