"""Operations commands, run as an operator runs them."""

import datetime as dt
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from adesso.accounts.access import user_for_api_token
from adesso.accounts.models import Organization, Role, User
from adesso.conversations.actions import do_snooze
from adesso.conversations.models import Conversation, ConversationEvent
from tests.builders import customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createorg_prints_a_working_password():
    out = run("createorg", "Gelateria Blu", "--admin-email", "Capo@Blu.example")
    password = out.split("Admin password: ")[1].strip()
    admin = User.objects.get(email="capo@blu.example")
    assert admin.role == Role.ADMIN
    assert admin.organization.name == "Gelateria Blu"
    assert admin.check_password(password)


def test_createorg_refuses_bad_input():
    with pytest.raises(CommandError, match="not a valid email"):
        run("createorg", "X", "--admin-email", "nope")
    run("createorg", "Uno", "--admin-email", "a@uno.example")
    with pytest.raises(CommandError, match="already exists"):
        run("createorg", "Due", "--admin-email", "A@uno.example")
    assert Organization.objects.count() == 1


def test_token_prints_a_token_for_the_agent():
    agent = make_agent(make_org())
    token = run("token", agent.email).strip()
    assert user_for_api_token(token) == agent
    with pytest.raises(CommandError, match="No active agent"):
        run("token", "ghost@example.com")


def test_runtimers_wakes_due_snoozes_once():
    org = make_org()
    agent = make_agent(org)
    ch = make_api_channel(org)
    code = customer_writes(ch)["conversation"]
    conversation = Conversation.objects.get(code=code)
    do_snooze(agent, conversation, timezone.now() + dt.timedelta(hours=1))
    assert "snoozes=0" in run("runtimers")
    Conversation.objects.filter(pk=conversation.pk).update(snoozed_until=timezone.now() - dt.timedelta(seconds=1))
    assert "snoozes=1" in run("runtimers")
    assert "snoozes=0" in run("runtimers")
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert conversation.snoozed_until is None
    assert ConversationEvent.objects.filter(conversation=conversation, data__reason="snooze_due").count() == 1


def test_console_command_is_installed():
    adesso = os.path.join(os.path.dirname(sys.executable), "adesso")
    result = subprocess.run([adesso, "help", "createorg"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--admin-email" in result.stdout
