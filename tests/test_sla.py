"""SLA: the default policy, due times, pauses, warnings, breaches and escalation."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from adesso.accounts.actions import do_create_organization
from adesso.accounts.models import Role
from adesso.conversations.actions import do_change_status, do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent
from adesso.sla.actions import do_check_sla
from adesso.sla.models import BusinessCalendar, SlaPolicy
from tests.builders import AgentApi, inbound_payload, make_agent, make_api_channel, make_org, receive_inbound

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


class Clock:
    """Freezes `timezone.now()` for the code under test."""

    def __init__(self, monkeypatch, start: dt.datetime) -> None:
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def customer_writes(ch, text="Aiuto, il mio ordine?", sender="cust-1") -> Conversation:
    body = receive_inbound(Client(), ch, inbound_payload(sender_id=sender, text=text))
    return Conversation.objects.get(code=body["conversation"])


def org_with_default_policy():
    admin, _ = do_create_organization("Bar Sport", f"admin{id(object())}@bar.example")
    return admin.organization, admin


def test_new_organisation_answers_within_60_minutes_around_the_clock(monkeypatch):
    org, admin = org_with_default_policy()
    policy = SlaPolicy.objects.get(organization=org)
    assert (policy.first_response_minutes, policy.next_response_minutes, policy.calendar) == (60, 60, None)
    assert (policy.channel_kinds, policy.priorities, policy.contact_tiers) == ([], [], [])
    Clock(monkeypatch, dt.datetime(2026, 11, 28, 23, 30, tzinfo=ROME))  # Saturday night
    conversation = customer_writes(make_api_channel(org))
    assert conversation.first_response_due_at == dt.datetime(2026, 11, 29, 0, 30, tzinfo=ROME)
    assert conversation.next_response_due_at is None
    assert conversation.sla_breached is False
    body = AgentApi(admin).get(f"/conversations/{conversation.code}").json()
    assert dt.datetime.fromisoformat(body["first_response_due_at"]) == conversation.first_response_due_at
    assert body["sla_breached"] is False


def test_reply_stops_the_first_clock_and_the_next_message_starts_the_next(monkeypatch):
    org, admin = org_with_default_policy()
    ch = make_api_channel(org)
    clock = Clock(monkeypatch, dt.datetime(2026, 11, 24, 10, 0, tzinfo=ROME))
    conversation = customer_writes(ch)
    clock.advance(minutes=20)
    do_send_reply(admin, conversation, "Ci pensiamo noi: entro le 12 ti scriviamo.")
    conversation.refresh_from_db()
    assert conversation.first_response_due_at is None
    assert conversation.sla_check_at is None
    clock.advance(minutes=30)
    conversation = customer_writes(ch, "Grazie, e la fattura?")
    assert conversation.next_response_due_at == clock.now + dt.timedelta(minutes=60)
    assert conversation.first_response_due_at is None


def test_pending_pauses_the_clock(monkeypatch):
    org, admin = org_with_default_policy()
    ch = make_api_channel(org)
    clock = Clock(monkeypatch, dt.datetime(2026, 11, 24, 10, 0, tzinfo=ROME))
    conversation = customer_writes(ch)
    clock.advance(minutes=20)
    do_change_status(admin, conversation, "pending")
    conversation.refresh_from_db()
    assert conversation.first_response_due_at is None
    clock.advance(hours=5)
    do_change_status(admin, conversation, "open")
    conversation.refresh_from_db()
    # 40 minutes of the hour were left when it paused.
    assert conversation.first_response_due_at == clock.now + dt.timedelta(minutes=40)


def test_business_hours_policy_for_email(monkeypatch):
    org, _ = org_with_default_policy()
    office = BusinessCalendar.objects.create(
        organization=org, name="Ufficio", week={str(d): [["09:00", "18:00"]] for d in range(5)}
    )
    SlaPolicy.objects.create(organization=org, name="API in orario", position=1, channel_kinds=["api"],
                             first_response_minutes=120, calendar=office)
    Clock(monkeypatch, dt.datetime(2026, 12, 7, 17, 0, tzinfo=ROME))  # Monday before a holiday
    conversation = customer_writes(make_api_channel(org))
    # One hour on Monday, 8 December is a holiday, one hour on Wednesday.
    assert conversation.first_response_due_at == dt.datetime(2026, 12, 9, 10, 0, tzinfo=ROME)


def test_timer_warns_at_50_75_90_and_escalates_on_breach(monkeypatch):
    org, admin = org_with_default_policy()
    giulia = make_agent(org, "Giulia")
    sara = make_agent(org, "Sara", role=Role.SUPERVISOR)
    ch = make_api_channel(org)
    clock = Clock(monkeypatch, dt.datetime(2026, 11, 24, 10, 0, tzinfo=ROME))
    conversation = customer_writes(ch)
    Conversation.objects.filter(pk=conversation.pk).update(assignee=giulia)
    assert do_check_sla(clock.advance(minutes=29)) == 0
    assert do_check_sla(clock.advance(minutes=1)) == 1
    assert do_check_sla(clock.now) == 0  # claimed and moved on: nothing twice
    clock.advance(minutes=25)  # 55 min: 75% and 90% together
    assert do_check_sla(clock.now) == 1
    warnings = list(ConversationEvent.objects.filter(conversation=conversation, kind="sla_warning")
                    .order_by("pk").values_list("data", flat=True))
    assert [w["percent"] for w in warnings] == [50, 75, 90]
    assert warnings[0]["notify"] == [giulia.code]
    assert set(warnings[2]["notify"]) == {giulia.code, sara.code, admin.code}
    clock.advance(minutes=5)
    assert do_check_sla(clock.now) == 1
    conversation.refresh_from_db()
    assert conversation.sla_breached is True
    assert conversation.priority == 2  # raised from normal
    breach = ConversationEvent.objects.get(conversation=conversation, kind="sla_breached")
    assert sara.code in breach.data["notify"]
    assert conversation.sla_check_at is None
    assert do_check_sla(clock.advance(hours=1)) == 0


def test_runtimers_runs_the_sla_tick(monkeypatch):
    org, _ = org_with_default_policy()
    conversation = customer_writes(make_api_channel(org))
    Conversation.objects.filter(pk=conversation.pk).update(
        sla_check_at=timezone.now() - dt.timedelta(seconds=1)
    )
    from io import StringIO

    out = StringIO()
    call_command("runtimers", stdout=out)
    assert "sla=1" in out.getvalue()


def test_no_policy_no_clock():
    org = make_org(sla=False)
    conversation = customer_writes(make_api_channel(org))
    assert conversation.first_response_due_at is None
    assert conversation.sla_policy_id is None


def test_inbox_sorts_by_time_left():
    org = make_org()
    agent = make_agent(org)
    ch = make_api_channel(org)
    first = customer_writes(ch, sender="a")
    second = customer_writes(ch, sender="b")
    Conversation.objects.filter(pk=first.pk).update(sla_due_at=timezone.now() + dt.timedelta(minutes=50))
    Conversation.objects.filter(pk=second.pk).update(sla_due_at=timezone.now() + dt.timedelta(minutes=5))
    codes = [c["code"] for c in AgentApi(agent).get("/conversations", ordering="sla").json()["items"]]
    assert codes == [second.code, first.code]


def test_inbox_page_shows_time_left_and_sorts_by_it(client):
    org = make_org()
    agent = make_agent(org, language="en")
    ch = make_api_channel(org)
    calm = customer_writes(ch, "Nessuna fretta", sender="calm")
    late = customer_writes(ch, "Sono in ritardo", sender="late")
    Conversation.objects.filter(pk=calm.pk).update(sla_due_at=timezone.now() + dt.timedelta(minutes=50, seconds=30))
    Conversation.objects.filter(pk=late.pk).update(sla_due_at=timezone.now() - dt.timedelta(minutes=5, seconds=30))
    client.force_login(agent)
    page = client.get("/", {"sort": "sla"}).content.decode()
    assert "5 min late" in page
    assert "50 min" in page
    assert page.index("Sono in ritardo") < page.index("Nessuna fretta")
    page = client.get("/", {"sort": "waiting"}).content.decode()
    assert page.index("Nessuna fretta") < page.index("Sono in ritardo")
