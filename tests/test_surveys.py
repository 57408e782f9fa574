"""Surveys on the api kind, through the public interfaces: the inbound endpoint (the
customer), the REST API (Giulia, the agent who handles the conversation; Alice, admin).
Email and Telegram: tests/test_surveys_channels.py."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from adesso.accounts.models import Role
from adesso.notifications.models import Notification
from adesso.surveys.models import SurveySettings
from adesso.surveys.texts import parse_score
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def _world(kind: str = "csat", language: str = "it") -> tuple[AgentApi, AgentApi, object, str]:
    """Pasticceria Rossi with surveys on; Mario (IT) or Mary (EN) writes on the website channel,
    Giulia answers; returns (giulia, alice, channel, conversation code)."""
    org = make_org(surveys=True)
    if kind != "csat":
        SurveySettings.objects.create(organization=org, kind=kind)
    giulia = AgentApi(make_agent(org, "Giulia"))
    alice = AgentApi(make_agent(org, "Alice", role=Role.ADMIN))
    ch = make_api_channel(org, "Sito web")
    text = (
        "Buongiorno, il mio ordine non è ancora arrivato"
        if language == "it"
        else ("Hello, my order has not arrived yet, where is it?")
    )
    name = "Mario Bianchi" if language == "it" else "Mary Smith"
    code = customer_writes(ch, text, sender_id="mario", sender={"name": name})["conversation"]
    giulia.post(f"/conversations/{code}/messages", {"text": "Eccolo: arriva domani mattina."})
    return giulia, alice, ch, code


def _resolve(agent: AgentApi, code: str, **extra: object) -> dict:
    r = agent.post(f"/conversations/{code}/status", {"status": "resolved", **extra})
    assert r.status_code == 200, r.content
    return r.json()


def _detail(agent: AgentApi, code: str) -> dict:
    r = agent.get(f"/conversations/{code}")
    assert r.status_code == 200, r.content
    return r.json()


def test_resolution_sends_a_csat_survey_in_italian_as_an_automatic_message():
    giulia, _alice, _ch, code = _world()
    body = _resolve(giulia, code)
    assert body["survey"] == {"kind": "csat", "score": None, "reason": None, "state": "sent"}
    detail = _detail(giulia, code)
    question = detail["messages"][-1]
    assert question["auto"] is True and question["direction"] == "outgoing"
    assert question["text"].startswith("Ciao Mario, la tua richiesta è stata risolta.")
    assert "Rispondi con un numero da 1 a 5." in question["text"]
    assert [e["kind"] for e in detail["events"]][-3:] == ["status_changed", "auto_sent", "survey_sent"]


def test_score_alone_gets_one_follow_up_then_the_reason_joins_the_timeline_without_reopening():
    giulia, _alice, ch, code = _world()
    _resolve(giulia, code)
    answer = customer_writes(ch, "4", sender_id="mario")
    assert answer["conversation"] == code
    detail = _detail(giulia, code)
    assert detail["status"] == "resolved"
    assert detail["survey"] == {"kind": "csat", "score": 4, "reason": None, "state": "answered"}
    why = detail["messages"][-1]
    assert why["auto"] is True and "con parole tue il motivo" in why["text"]
    reason = customer_writes(ch, "Gentili, ma la consegna era in ritardo di due giorni", sender_id="mario")
    assert reason["conversation"] == code
    detail = _detail(giulia, code)
    assert detail["status"] == "resolved"
    assert detail["survey"]["state"] == "reasoned"
    assert detail["survey"]["reason"] == "Gentili, ma la consegna era in ritardo di due giorni"
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds[-8:] == [
        "status_changed",
        "auto_sent",
        "survey_sent",
        "message_received",
        "survey_answered",
        "auto_sent",
        "message_received",
        "survey_reason",
    ]
    assert [m["auto"] for m in detail["messages"]].count(True) == 2  # the question and one follow-up
    # The next message after the reason is an ordinary one: a new conversation.
    later = customer_writes(ch, "Un'altra domanda sul mio ordine", sender_id="mario")
    assert later["conversation"] != code


def test_score_with_a_reason_in_one_message_asks_nothing_more():
    giulia, _alice, ch, code = _world()
    _resolve(giulia, code)
    customer_writes(ch, "5 grazie, gentilissimi e velocissimi", sender_id="mario")
    detail = _detail(giulia, code)
    assert detail["survey"] == {
        "kind": "csat",
        "score": 5,
        "reason": "grazie, gentilissimi e velocissimi",
        "state": "reasoned",
    }
    assert detail["messages"][-1]["direction"] == "incoming"


def test_english_customer_gets_english_wording():
    giulia, _alice, ch, code = _world(language="en")
    _resolve(giulia, code)
    question = _detail(giulia, code)["messages"][-1]["text"]
    assert question.startswith("Hi Mary, your request has been resolved. How satisfied are you")
    assert "Reply with a number from 1 to 5." in question
    customer_writes(ch, "4/5", sender_id="mario")
    detail = _detail(giulia, code)
    assert detail["survey"]["score"] == 4
    assert "in your own words" in detail["messages"][-1]["text"]


def test_nps_bad_score_notifies_the_agent_who_handled_it():
    giulia, _alice, ch, code = _world(kind="nps")
    _resolve(giulia, code)
    assert "da 0 a 10" in _detail(giulia, code)["messages"][-1]["text"]
    customer_writes(ch, "3", sender_id="mario")
    notes = Notification.objects.filter(user=giulia.agent)
    assert [n.kind for n in notes] == ["survey_answered"]
    assert notes[0].data["score"] == 3 and notes[0].data["bad"] is True
    assert giulia.get("/notifications").json()["items"][0]["kind"] == "survey_answered"


def test_good_score_notifies_nobody():
    giulia, _alice, ch, code = _world()
    _resolve(giulia, code)
    customer_writes(ch, "5", sender_id="mario")
    assert not Notification.objects.filter(user=giulia.agent, kind="survey_answered").exists()


def test_second_resolution_within_the_interval_sends_no_survey():
    giulia, _alice, ch, code = _world()
    _resolve(giulia, code)
    customer_writes(ch, "5 perfetto, veloci e gentili", sender_id="mario")
    second = customer_writes(ch, "Buongiorno, un'altra domanda", sender_id="mario")["conversation"]
    giulia.post(f"/conversations/{second}/messages", {"text": "Certo, ecco la risposta."})
    assert _resolve(giulia, second)["survey"] is None
    assert _detail(giulia, second)["messages"][-1]["auto"] is False


def test_a_survey_again_after_the_interval():
    giulia, _alice, ch, code = _world()
    _resolve(giulia, code)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31)):
        second = customer_writes(ch, "Buongiorno, di nuovo io", sender_id="mario")["conversation"]
        giulia.post(f"/conversations/{second}/messages", {"text": "Eccomi."})
        assert _resolve(giulia, second)["survey"]["state"] == "sent"
    assert _detail(giulia, code)["survey"]["state"] == "expired"


def test_sensitive_conversation_gets_no_survey():
    giulia, _alice, _ch, code = _world()
    body = _resolve(giulia, code, sensitive=True)
    assert body["survey"] is None
    detail = _detail(giulia, code)
    assert all(not m["auto"] for m in detail["messages"])
    assert detail["events"][-1]["data"]["sensitive"] is True


def test_surveys_off_for_the_channel_sends_none():
    giulia, _alice, ch, code = _world()
    SurveySettings.objects.create(organization=ch.channel.organization, channel=ch.channel, enabled=False)
    assert _resolve(giulia, code)["survey"] is None


def test_a_message_that_is_no_score_goes_on_as_usual_and_ends_the_survey():
    giulia, _alice, ch, code = _world()
    _resolve(giulia, code)
    other = customer_writes(ch, "Scusate, ho un altro problema con la fattura", sender_id="mario")
    assert other["conversation"] != code
    assert _detail(giulia, code)["survey"]["state"] == "expired"
    # A digit later is no longer an answer.
    assert customer_writes(ch, "5", sender_id="mario")["conversation"] == other["conversation"]


def test_out_of_range_score_is_no_answer():
    giulia, _alice, ch, code = _world()
    _resolve(giulia, code)
    assert customer_writes(ch, "9", sender_id="mario")["conversation"] != code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", (5, "")),
        ("5 grazie", (5, "")),
        ("4/5", (4, "")),
        (" 3 su 5 ", (3, "")),
        ("2.", (2, "")),
        ("5 stelle, grazie mille!", (5, "")),
        ("1 pessimo servizio", (1, "pessimo servizio")),
        ("4 - quick and kind", (4, "quick and kind")),
        ("10", None),
        ("0", None),
        ("voto 4", None),
        ("45 minuti di attesa", None),
        ("4,5", None),
        ("", None),
        ("cinque", None),
    ],
)
def test_parse_score(text, expected):
    assert parse_score(text, 1, 5) == expected


def test_response_rates_per_channel_for_supervisors():
    giulia, alice, ch, code = _world()
    _resolve(giulia, code)
    customer_writes(ch, "2", sender_id="mario")
    customer_writes(ch, "Troppa attesa al telefono", sender_id="mario")
    other = customer_writes(ch, "Salve, una domanda", sender_id="anna", sender={"name": "Anna Verdi"})
    giulia.post(f"/conversations/{other['conversation']}/messages", {"text": "Ecco."})
    _resolve(giulia, other["conversation"])
    r = alice.get("/insights/surveys", days=7)
    assert r.status_code == 200, r.content
    assert r.json()["channels"] == [
        {
            "channel": ch.channel.code,
            "channel_name": "Sito web",
            "channel_kind": "api",
            "kind": "csat",
            "sent": 2,
            "answered": 1,
            "with_reason": 1,
            "response_rate": 0.5,
            "average_score": 2.0,
        }
    ]
    assert alice.get("/insights/surveys", channel="nessuno").json()["channels"] == []
    assert giulia.get("/insights/surveys").status_code == 403
    assert alice.get("/insights/surveys", days=0).status_code == 422


def test_the_agent_page_resolves_as_sensitive_or_not():
    giulia, _alice, ch, code = _world()
    page = Client()
    page.force_login(giulia.agent)
    header = page.get(f"/c/{code}/")
    r = page.post(f"/c/{code}/status", {"status": "resolved", "sensitive": "1"})
    assert r.status_code in (200, 302), r.content
    assert _detail(giulia, code)["survey"] is None
    assert 'name="sensitive"' in header.content.decode()
    second = customer_writes(ch, "Buonasera, un'altra cosa", sender_id="anna", sender={"name": "Anna Verdi"})
    giulia.post(f"/conversations/{second['conversation']}/messages", {"text": "Certo."})
    page.post(f"/c/{second['conversation']}/status", {"status": "resolved"})
    assert _detail(giulia, second["conversation"])["survey"]["state"] == "sent"


def test_the_agent_page_shows_the_score_in_the_timeline():
    giulia, _alice, ch, code = _world()
    _resolve(giulia, code)
    customer_writes(ch, "2 troppo lenti", sender_id="mario")
    page = Client()
    page.force_login(giulia.agent)
    html = page.get(f"/c/{code}/").content.decode()
    assert "Sondaggio: il cliente ha dato 2 (CSAT)" in html
    assert "troppo lenti" in html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 Grazie, tutto perfetto!", "Grazie, tutto perfetto!"),
        ("4/5 - consegna puntuale.", "consegna puntuale."),
        ("1: mai più", "mai più"),
        ("Nessun voto qui.", "Nessun voto qui."),
        ("5", "5"),
        ("4,5 stelle", "4,5 stelle"),
    ],
)
def test_after_score_keeps_the_customers_words_as_written(text, expected):
    from adesso.surveys.texts import after_score

    assert after_score(text) == expected
