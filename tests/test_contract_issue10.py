"""Issue 10's contract as an outside acceptance checker uses it, on an install as
`make run` makes it (SITE_URL http://127.0.0.1:<port>): a bot connected with only its
token, against a Bot API stand-in on 127.0.0.1 that takes any webhook URL, as a
checker's does (tests/support/telegram_api.py, https_only=False).

Found by the contract audit of session 6: with a plain-http SITE_URL, connecting chose
polling without asking Telegram (getMe, deleteWebhook), so the checker never saw
setWebhook; and the API did not show that a contact blocked the bot.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from adesso.accounts.models import Role
from adesso.channels.models import Channel, InboundEvent
from adesso.conversations.models import Conversation, Message
from tests.builders import AgentApi, make_agent, make_org
from tests.support.telegram_api import BotApi

pytestmark = pytest.mark.django_db

TOKEN = "7409876543:AAFcontractCheckerBotTokenForTests01"
LOCAL_SITE = "http://127.0.0.1:8000"  # what scripts/run sets
LUCIA = {"id": 555000222, "is_bot": False, "first_name": "Lucia", "last_name": "Verdi", "language_code": "it"}


def bot_api(settings: Any, https_only: bool) -> BotApi:
    api = BotApi(TOKEN, https_only=https_only)
    settings.ADESSO_TELEGRAM_API_BASE = api.url
    settings.SITE_URL = LOCAL_SITE
    return api


@pytest.fixture
def checker_bot(settings):
    api = bot_api(settings, https_only=False)
    yield api
    api.stop()
    assert api.problems == []


@pytest.fixture
def telegram_bot(settings):
    api = bot_api(settings, https_only=True)
    yield api
    api.stop()
    assert api.problems == []


@pytest.fixture
def admin():
    org = make_org(ack=True)
    return AgentApi(make_agent(org, "Francesca", role=Role.ADMIN))


def connect(admin: AgentApi, **config: Any) -> Any:
    return admin.post(
        "/channels", {"kind": "telegram", "name": "Bot Dolce Vita", "config": {"bot_token": TOKEN, **config}}
    )


def update(update_id: int, text: str) -> dict[str, Any]:
    chat = {"id": LUCIA["id"], "type": "private", "first_name": "Lucia"}
    return {
        "update_id": update_id,
        "message": {"message_id": update_id % 1000, "date": 1764856800, "chat": chat, "from": LUCIA, "text": text},
    }


def post_update(inbound_url: str, body: dict[str, Any], secret: str) -> Any:
    path = inbound_url.removeprefix(LOCAL_SITE)
    return Client().post(
        path, json.dumps(body), content_type="application/json", headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )


def test_connecting_with_only_the_token_calls_getme_and_setwebhook_with_the_inbound_url(
    checker_bot, admin, django_capture_on_commit_callbacks
):
    r = connect(admin)

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "telegram" and body["code"] and body["is_enabled"] is True
    assert body["inbound_url"] == f"{LOCAL_SITE}/channels/telegram/{body['code']}/inbound"
    assert checker_bot.methods() == ["getMe", "setWebhook"]
    [hook] = checker_bot.sent("setWebhook")
    channel = Channel.objects.get(code=body["code"])
    assert hook.body["url"] == body["inbound_url"]
    assert hook.body["secret_token"] == channel.config["webhook_secret"] and len(hook.body["secret_token"]) >= 16
    assert channel.config["mode"] == "webhook"

    # The secret given to setWebhook opens the inbound URL; a wrong one stores nothing.
    refused = post_update(body["inbound_url"], update(800001, "Buongiorno"), "not-the-secret")
    assert refused.status_code == 401
    assert not InboundEvent.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        accepted = post_update(
            body["inbound_url"], update(800002, "Buongiorno, la torta non è arrivata"), hook.body["secret_token"]
        )
    assert accepted.status_code == 200, accepted.content
    conversation = Conversation.objects.get(channel=channel)
    assert list(conversation.messages.filter(direction="incoming").values_list("text", flat=True)) == [
        "Buongiorno, la torta non è arrivata"
    ]
    [ack] = checker_bot.sent("sendMessage")
    assert ack.body["chat_id"] in (LUCIA["id"], str(LUCIA["id"]))


def test_when_telegram_refuses_the_url_the_bot_polls_unless_webhook_was_asked_for(telegram_bot, admin):
    r = connect(admin)

    assert r.status_code == 201, r.content
    assert telegram_bot.methods() == ["getMe", "setWebhook", "deleteWebhook"]
    assert Channel.objects.get(code=r.json()["code"]).config["mode"] == "polling"

    refused = connect(admin, mode="webhook")
    assert refused.status_code == 400
    assert refused.json()["error"] == "webhook_refused"
    assert "HTTPS URL must be provided" in refused.json()["message"]
    assert Channel.objects.filter(kind="telegram").count() == 1


def test_a_customer_who_blocked_the_bot_is_shown_unreachable_in_the_api(
    checker_bot, admin, django_capture_on_commit_callbacks
):
    body = connect(admin).json()
    secret = checker_bot.sent("setWebhook")[0].body["secret_token"]
    with django_capture_on_commit_callbacks(execute=True):
        post_update(body["inbound_url"], update(800101, "Ciao, a che ora chiudete?"), secret)
    conversation = Conversation.objects.get(channel__code=body["code"])
    checker_bot.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")

    with django_capture_on_commit_callbacks(execute=True):
        r = admin.post(f"/conversations/{conversation.code}/messages", {"text": "Chiudiamo alle 19:30."})
    assert r.status_code == 201, r.content

    assert Message.objects.get(code=r.json()["code"]).delivery_status == "failed"
    detail = admin.get(f"/conversations/{conversation.code}").json()
    [failed] = [e for e in detail["events"] if e["kind"] == "delivery_failed"]
    assert "blocked the bot" in failed["data"]["error"]
    contact = admin.get(f"/contacts/{detail['contact']['code']}").json()
    [identity] = [i for i in contact["identities"] if i["kind"] == "telegram"]
    assert identity["unreachable_at"] is not None
    assert "blocked the bot" in identity["unreachable_reason"]


def test_a_polling_reader_does_not_spin_on_a_bot_api_that_answers_at_once(transactional_db, telegram_bot):
    """The audit's `make run` against a stand-in answering getUpdates at once (no long
    poll) saw the channels process ask 282 times a second; it now waits between empty
    answers that came back at once."""
    from adesso.channels.management.commands.pollchannels import Poller

    org = make_org()
    admin = AgentApi(make_agent(org, "Francesca", role=Role.ADMIN))
    code = connect(admin).json()["code"]
    assert Channel.objects.get(code=code).config["mode"] == "polling"
    poller = Poller(Channel.objects.get(code=code).pk, timeout=25.0)

    poller.start()
    time.sleep(2.5)
    poller.stop.set()
    poller.join(5)

    asked = [c for c in telegram_bot.calls if c.method == "getUpdates"]
    assert 1 <= len(asked) <= 4, len(asked)
