"""Retention: the timer applies each organisation's policy once a day; `adesso retention
--dry-run` says what would go; the settings live on the admins' privacy page."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from adesso.accounts.models import Role
from adesso.audit.models import AuditAction, AuditEntry
from adesso.channels.models import EventState, InboundEvent
from adesso.conversations.models import Attachment, Conversation, Message, Status
from adesso.ops.timers import tick
from adesso.privacy.actions import do_save_privacy_settings
from adesso.privacy.models import privacy_of
from adesso.privacy.retention import months_before
from tests.builders import attachment, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


def conversation(ch, text, resolved_days_ago=None, **extra):
    code = customer_writes(ch, text, sender_id=f"cust-{text[:8]}", **extra)["conversation"]
    if resolved_days_ago is not None:
        Conversation.objects.filter(code=code).update(
            status=Status.RESOLVED, resolved_at=NOW - dt.timedelta(days=resolved_days_ago)
        )
    return code


@pytest.fixture
def shop(settings):
    org = make_org("Pasticceria Rossi")
    anna = make_agent(org, "Anna", role=Role.ADMIN)
    ch = make_api_channel(org)
    old = conversation(
        ch, "vecchia richiesta", resolved_days_ago=220, attachments=[attachment("scontrino.txt", b"totale 12,50")]
    )
    recent = conversation(ch, "richiesta recente", resolved_days_ago=40)
    still_open = conversation(ch, "ancora aperta")
    Conversation.objects.filter(code=still_open).update(created_at=NOW - dt.timedelta(days=300))
    InboundEvent.objects.filter(channel=ch.channel).update(received_at=NOW - dt.timedelta(days=45))
    InboundEvent.objects.filter(
        channel=ch.channel, message_code__in=Message.objects.filter(conversation__code=still_open).values("code")
    ).update(state=EventState.QUARANTINED, received_at=NOW)
    do_save_privacy_settings(anna, resolved_conversation_months=6, inbound_event_days=30)
    return org, anna, ch, old, recent, still_open


def texts(code):
    return list(Message.objects.filter(conversation__code=code).values_list("text", flat=True))


def test_the_dry_run_says_what_would_go_and_removes_nothing(shop):
    org, _anna, ch, old, _recent, _still_open = shop
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)

    printed = out.getvalue()
    assert (
        f"{org.name}: would empty 1 resolved conversations (1 messages, 1 files), delete 2 raw inbound "
        "events and 0 audit entries" in printed
    )
    assert old in printed
    assert texts(old) == ["vecchia richiesta"]
    assert InboundEvent.objects.filter(channel=ch.channel).count() == 3


def test_the_timer_applies_the_policy_once_a_day(shop, django_capture_on_commit_callbacks):
    org, _anna, ch, old, recent, still_open = shop
    path = Attachment.objects.get(message__conversation__code=old).file.path
    assert os.path.exists(path)
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert tick(now)["retention"] == 1

    assert texts(old) == [""]
    assert not os.path.exists(path)
    assert Conversation.objects.get(code=old).status == Status.RESOLVED  # still counted by reports
    assert texts(recent) == ["richiesta recente"]
    assert texts(still_open) == ["ancora aperta"]
    # Raw events: the old processed ones are gone, the quarantined new one stays.
    assert list(InboundEvent.objects.filter(channel=ch.channel).values_list("state", flat=True)) == ["quarantined"]
    entry = AuditEntry.objects.get(organization=org, action=AuditAction.RETENTION_RUN)
    assert entry.actor is None and entry.data["counts"]["conversations"] == 1
    assert privacy_of(org.pk).retention_due_at == now + dt.timedelta(days=1)
    assert tick(now + dt.timedelta(hours=1))["retention"] == 0


def test_the_command_runs_it_now_with_a_progress_bar(shop):
    org, _anna, _ch, old, _recent, _still_open = shop
    out = io.StringIO()

    call_command("retention", stdout=out)

    assert f"{org.name}: emptied 1 conversations (1 messages, 1 files), deleted 2 raw inbound events" in out.getvalue()
    assert "1/1" in out.getvalue()  # the progress bar's last state
    assert texts(old) == [""]


def test_months_are_calendar_months():
    assert months_before(dt.datetime(2026, 3, 31, 10, tzinfo=dt.UTC), 1) == dt.datetime(2026, 2, 28, 10, tzinfo=dt.UTC)
    assert months_before(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 13) == dt.datetime(2024, 12, 15, tzinfo=dt.UTC)


def test_the_privacy_page_saves_the_policy_and_refuses_nonsense(shop):
    org, anna, _ch, _old, _recent, _still_open = shop
    web = logged_in(anna)

    page = web.get("/settings/privacy").content.decode()
    assert "Cosa è conservato e perché" in page and "Allegati ed email originali" in page
    bad = web.post("/settings/privacy", {"resolved_conversation_months": "0", "inbound_event_days": "30"})
    assert bad.status_code == 400
    assert "deve essere tra 1 e 120" in bad.content.decode()
    assert privacy_of(org.pk).resolved_conversation_months == 6
    ok = web.post(
        "/settings/privacy",
        {
            "resolved_conversation_months": "12",
            "inbound_event_days": "",
            "redact_kinds": ["iban", "card"],
            "two_factor": "admins",
        },
    )
    assert ok.status_code == 302
    saved = privacy_of(org.pk)
    assert (saved.resolved_conversation_months, saved.inbound_event_days, saved.redact_kinds, saved.two_factor) == (
        12,
        None,
        ["iban", "card"],
        "admins",
    )
    assert AuditEntry.objects.filter(organization=org, action=AuditAction.SETTINGS_CHANGED).count() == 2
    agent = make_agent(org, "Luca")
    assert logged_in(agent).get("/settings/privacy").status_code == 403
