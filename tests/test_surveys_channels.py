"""Surveys on the email kind (a real SMTP server on loopback, mail taken in by the
pipeline), the telegram kind (the Bot API on loopback: tests/support/telegram_api.py)
and the web chat (the visitor's REST endpoints, as tests/test_webchat.py drives them).
Giulia is the agent who resolves; Mario Bianchi the customer."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from adesso.channels.actions import do_create_channel
from adesso.conversations.actions import do_change_status, do_send_reply
from adesso.conversations.models import Conversation
from adesso.notifications.models import Notification
from tests.builders import AgentApi, make_agent, make_org
from tests.support.mailintake import receive_mail
from tests.support.mailservers import compose, start_smtp, stop_smtp
from tests.support.telegram_api import BotApi

pytestmark = pytest.mark.django_db

SITE = "https://assistenza.rossi.example"


@pytest.fixture
def smtp():
    server = start_smtp()
    yield server
    stop_smtp(server)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run an action and what it leaves for after commit (the outbox's delivery)."""

    def run(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def _email_world(smtp, run, language_text: str) -> tuple[Any, Conversation, Any]:
    org = make_org("Pasticceria Rossi", surveys=True)
    giulia = make_agent(org, "Giulia")
    channel, _ = do_create_channel(
        org,
        "email",
        "Assistenza",
        {
            "address": "assistenza@rossi.example",
            "from_name": "Assistenza Rossi",
            "smtp": smtp.config(),
        },
    )
    receive_mail(channel, compose(message_id="<domanda@example.net>", text=language_text))
    conversation = Conversation.objects.get(channel=channel)
    run(do_send_reply, giulia, conversation, "Buongiorno Mario, il pacco arriva domani.")
    run(do_change_status, giulia, conversation, "resolved")
    return giulia, conversation, channel


def test_email_survey_links_record_the_score_and_the_page_asks_why(smtp, run, settings):
    settings.SITE_URL = SITE
    giulia, conversation, _channel = _email_world(
        smtp, run, "Buongiorno, il mio ordine non è ancora arrivato. Potete aiutarmi?"
    )
    _reply, survey_mail = smtp.wait_for(2)
    body = survey_mail.get_content()
    assert " ".join(body.split()).startswith("Ciao Mario, la tua richiesta è stata risolta. Quanto sei soddisfatto")
    assert survey_mail["Auto-Submitted"] == "auto-replied"
    links = dict(re.findall(rf"^(\d): ({re.escape(SITE)}/s/\S+)", body, re.M))
    assert sorted(links) == ["1", "2", "3", "4", "5"]
    client = Client()
    # A link checker's HEAD records nothing.
    assert client.head(links["2"].removeprefix(SITE)).status_code == 200
    api = AgentApi(giulia)
    assert api.get(f"/conversations/{conversation.code}").json()["survey"]["state"] == "sent"

    page = client.get(links["2"].removeprefix(SITE))
    assert page.status_code == 200
    assert "con parole tue" in page.content.decode()
    detail = api.get(f"/conversations/{conversation.code}").json()
    assert detail["survey"] == {"kind": "csat", "score": 2, "reason": None, "state": "answered"}
    assert detail["status"] == "resolved"
    # A bad score: Giulia, who handled it, is told.
    assert [n.kind for n in Notification.objects.filter(user=giulia)] == ["survey_answered"]

    done = client.post(links["2"].removeprefix(SITE), {"reason": "Il pacco è arrivato rotto"})
    assert done.status_code == 200
    detail = api.get(f"/conversations/{conversation.code}").json()
    assert detail["survey"] == {"kind": "csat", "score": 2, "reason": "Il pacco è arrivato rotto", "state": "reasoned"}
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds[-2:] == ["survey_answered", "survey_reason"]
    # Nothing more is sent by mail: the page asked why.
    assert len(smtp.wait_for(3, timeout=0.5)) == 2


def test_email_link_with_a_forged_token_or_score_out_of_range(smtp, run, settings):
    settings.SITE_URL = SITE
    giulia, conversation, _channel = _email_world(smtp, run, "Buongiorno, dov'è il mio ordine?")
    body = smtp.wait_for(2)[1].get_content()
    link = re.search(rf"^5: {re.escape(SITE)}(/s/\S+)", body, re.M).group(1)
    token = link.split("/")[2]
    client = Client()
    assert client.get(f"/s/{token[:-2]}xx/5").status_code == 404
    assert client.get(f"/s/{token}/9").status_code == 410
    detail = AgentApi(giulia).get(f"/conversations/{conversation.code}").json()
    assert detail["survey"]["state"] == "sent"


def test_email_answer_by_reply_is_recorded_without_reopening_in_english(smtp, run, settings):
    settings.SITE_URL = SITE
    giulia, conversation, channel = _email_world(
        smtp, run, "Hello, my order has not arrived yet and I would like to know where it is."
    )
    survey_mail = smtp.wait_for(2)[1]
    # The letter puts the greeting on its own line: "Hi Mario,\n\nYour request...".
    assert " ".join(survey_mail.get_content().split()).startswith("Hi Mario, Your request has been resolved.")
    run(
        receive_mail,
        channel,
        compose(
            subject=f"Re: {survey_mail['Subject']}",
            message_id="<voto@example.net>",
            text="4",
            headers={"In-Reply-To": survey_mail["Message-ID"]},
        ),
    )
    conversation.refresh_from_db()
    assert conversation.status == "resolved"
    api = AgentApi(giulia)
    assert api.get(f"/conversations/{conversation.code}").json()["survey"]["score"] == 4
    why = smtp.wait_for(3)[2]
    assert "in your own words" in why.get_content()
    run(
        receive_mail,
        channel,
        compose(
            subject=f"Re: {why['Subject']}",
            message_id="<perche@example.net>",
            text="Fast, but the box was damaged.",
            headers={"In-Reply-To": why["Message-ID"]},
        ),
    )
    detail = api.get(f"/conversations/{conversation.code}").json()
    assert detail["status"] == "resolved"
    assert detail["survey"]["reason"] == "Fast, but the box was damaged."


# -- telegram ------------------------------------------------------------------------------

TOKEN = "7301234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
MARIO = {"id": 111222333, "is_bot": False, "first_name": "Mario", "last_name": "Bianchi"}


@pytest.fixture
def bot(settings):
    api = BotApi(TOKEN)
    settings.ADESSO_TELEGRAM_API_BASE = api.url
    settings.SITE_URL = SITE
    yield api
    api.stop()
    assert api.problems == []


def _tg(channel: Any, text: str, update_id: int, run) -> None:
    update = {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 1000,
            "from": MARIO,
            "chat": {"id": MARIO["id"], "type": "private", "first_name": "Mario"},
            "date": 1764856800,
            "text": text,
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": channel.config["webhook_secret"]}
    r = run(
        Client().post,
        f"/channels/telegram/{channel.code}/inbound",
        json.dumps(update),
        content_type="application/json",
        headers=headers,
    )
    assert r.status_code == 200, r.content


def test_telegram_survey_score_follow_up_and_reason(bot, run):
    org = make_org("Pasticceria Rossi", surveys=True)
    giulia = make_agent(org, "Giulia")
    channel, _ = do_create_channel(org, "telegram", "Bot", {"bot_token": TOKEN})
    _tg(channel, "Buongiorno, la torta per sabato è pronta?", 734200001, run)
    conversation = Conversation.objects.get(channel=channel)
    run(do_send_reply, giulia, conversation, "Sì, è pronta da ritirare.")
    run(do_change_status, giulia, conversation, "resolved")
    question = bot.sent()[-1].body
    assert question["chat_id"] in (MARIO["id"], str(MARIO["id"]))
    assert question["text"].startswith("Ciao Mario, la tua richiesta è stata risolta.")
    assert "Rispondi con un numero da 1 a 5." in question["text"]
    # Quick replies: a reply keyboard with one button per score, hidden after a tap.
    assert question["reply_markup"] == {
        "keyboard": [[{"text": str(n)} for n in range(1, 6)]],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }
    # The agent's reply had none.
    assert "reply_markup" not in bot.sent()[-2].body

    _tg(channel, "5", 734200002, run)
    conversation.refresh_from_db()
    assert conversation.status == "resolved"
    assert "con parole tue" in bot.sent()[-1].body["text"]
    assert "reply_markup" not in bot.sent()[-1].body
    _tg(channel, "Torta buonissima e pronta in orario", 734200003, run)
    detail = AgentApi(giulia).get(f"/conversations/{conversation.code}").json()
    assert detail["survey"] == {
        "kind": "csat",
        "score": 5,
        "reason": "Torta buonissima e pronta in orario",
        "state": "reasoned",
    }
    assert [e["kind"] for e in detail["events"] if e["kind"].startswith("survey")] == [
        "survey_sent",
        "survey_answered",
        "survey_reason",
    ]
    assert not Notification.objects.filter(user=giulia, kind="survey_answered").exists()


# -- web chat ------------------------------------------------------------------------------


def test_web_chat_survey_is_read_by_the_visitor_and_answered_in_the_chat(run):
    from tests.test_webchat import SHOP, Visitor, connect

    org = make_org("Pasticceria Rossi", surveys=True)
    giulia = make_agent(org, "Giulia")
    channel, _secret = connect(org)
    mario = Visitor(channel)
    assert mario.start().status_code == 200
    assert run(mario.write, "Buongiorno, avete la torta senza glutine?", "e1", page=SHOP).status_code == 202
    conversation = Conversation.objects.get(channel=channel)
    run(do_send_reply, giulia, conversation, "Sì, anche senza lattosio.")
    run(do_change_status, giulia, conversation, "resolved")
    question = mario.read().json()["messages"][-1]
    assert question["auto"] is True
    # An anonymous visitor: no name to greet.
    assert question["text"].startswith("Ciao, la tua richiesta è stata risolta.")
    assert "Rispondi con un numero da 1 a 5." in question["text"]

    assert run(mario.write, "1", "e2").status_code == 202
    assert "con parole tue" in mario.read().json()["messages"][-1]["text"]
    assert run(mario.write, "Avevo chiesto senza lattosio e non lo era", "e3").status_code == 202
    detail = AgentApi(giulia).get(f"/conversations/{conversation.code}").json()
    assert detail["status"] == "resolved"
    assert detail["survey"] == {
        "kind": "csat",
        "score": 1,
        "reason": "Avevo chiesto senza lattosio e non lo era",
        "state": "reasoned",
    }
    assert [n.kind for n in Notification.objects.filter(user=giulia)] == ["survey_answered"]
