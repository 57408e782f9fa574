"""Reports through the API: first responses, targets, breaches, backlog, scope, CSV, errors."""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine

from adesso.conversations.actions import do_send_auto_message, do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent, EventKind
from adesso.sla.actions import do_check_sla
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
NOW = dt.datetime(2026, 11, 6, 12, 0, tzinfo=ROME)  # Friday
PERIOD = {"from": "2026-11-02", "to": "2026-11-08"}


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=ROME)


def writes(when: dt.datetime, ch, sender: str, text: str = "Buongiorno, il mio ordine?") -> Conversation:
    with time_machine.travel(when, tick=False):
        return Conversation.objects.get(code=customer_writes(ch, text, sender_id=sender)["conversation"])


def replies(when: dt.datetime, agent, conversation: Conversation, internal: bool = False) -> None:
    conversation.refresh_from_db()
    with time_machine.travel(when, tick=False):
        do_send_reply(agent, conversation, "Eccoci, ci pensiamo noi.", internal=internal)


def build():
    """A week of a small shop: two channels, two agents, a supervisor, another organisation."""
    org = make_org()
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    sara = make_agent(org, "Sara", role="supervisor", language="en")
    web, chat = make_api_channel(org, "Sito web"), make_api_channel(org, "=Chat")
    before = writes(at(1, 9), web, "old")  # the day before the period: not counted
    replies(at(1, 9, 30), giulia, before)
    a = writes(at(2, 10, 10), web, "a")
    replies(at(2, 10, 14), giulia, a)  # 4 min
    b = writes(at(2, 10, 50), web, "b")
    with time_machine.travel(at(2, 10, 50) + dt.timedelta(seconds=5), tick=False):
        do_send_auto_message(b, "Ricevuto: ti rispondiamo entro 20 minuti.", "acknowledgement")
    replies(at(2, 11, 20), giulia, b)  # 30 min: the automatic message is not the answer
    c = writes(at(3, 9, 15), chat, "c")
    replies(at(3, 9, 25), marco, c, internal=True)  # a note is not an answer either
    for minute in (16, 20, 30):  # the timer: warnings, then the breach at 10:15
        with time_machine.travel(at(3, 10, minute), tick=False):
            do_check_sla(at(3, 10, minute))
    replies(at(3, 10, 45), marco, c)  # 90 min: late
    d = writes(at(4, 9, 15), chat, "d")  # never answered
    e = writes(NOW - dt.timedelta(minutes=10), chat, "e")  # not yet due
    other = make_org("Altra")
    writes(at(2, 10, 0), make_api_channel(other), "x")
    return locals()


def get(agent, **params):
    with time_machine.travel(NOW, tick=False):
        return AgentApi(agent).get("/reports", **{**PERIOD, **params})


def test_figures_per_channel_side_by_side():
    w = build()
    r = get(w["sara"])
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["from"], body["to"], body["timezone"], body["scope"]) == (
        "2026-11-02", "2026-11-08", "Europe/Rome", "organization")
    groups = {g["name"]: g for g in body["groups"]}
    assert set(groups) == {"Sito web", "=Chat"}
    web, chat = groups["Sito web"], groups["=Chat"]
    assert web["key"] == w["web"].channel.code
    assert (web["conversations"], web["answered"], web["within_target"], web["missed"]) == (2, 2, 2, 0)
    assert web["within_target_share"] == 1.0
    assert (web["first_response_p50_s"], web["first_response_p90_s"], web["first_response_max_s"]) == (240, 1800, 1800)
    labels = [b["label"] for b in body["buckets"]]
    assert dict(zip(labels, web["distribution"], strict=True)) == {
        "≤ 5 min": 1, "5-15 min": 0, "15-30 min": 1, "30-60 min": 0, "1-2 h": 0, "2-4 h": 0, "4-24 h": 0,
        "> 24 h": 0}
    assert (chat["conversations"], chat["answered"], chat["within_target"]) == (3, 1, 0)
    assert (chat["missed"], chat["waiting_in_time"], chat["within_target_share"]) == (2, 1, 0.0)
    assert chat["first_response_p50_s"] == 90 * 60
    assert chat["breaches"] == 1 and web["breaches"] == 0
    # d broke its promise too, but no timer ran for it: breaches are what the timer recorded.
    assert ConversationEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == 1
    totals = body["totals"]
    assert (totals["conversations"], totals["within_target"], totals["missed"], totals["breaches"]) == (5, 2, 2, 1)
    assert totals["within_target_share"] == 0.5


def test_backlog_by_hour_follows_the_messages():
    w = build()
    backlog = get(w["sara"]).json()["backlog"]
    hours = [dt.datetime.fromisoformat(h) for h in backlog["hours"]]
    assert len(hours) == 7 * 24 and hours[0] == at(2, 0)
    total = dict(zip(hours, backlog["total"], strict=True))
    assert total[at(2, 10)] == 0
    assert total[at(2, 11)] == 1  # b, waiting since 10:50 despite the automatic message
    assert total[at(2, 12)] == 0
    assert total[at(3, 10)] == 1  # c: the internal note did not end the wait
    assert total[at(3, 11)] == 0
    assert total[at(4, 10)] == 1 and total[at(6, 11)] == 1  # d, still waiting
    assert total[at(6, 12)] == 2  # and e
    assert total[at(6, 13)] is None  # the future
    series = {s["name"]: s["values"] for s in backlog["series"]}
    assert series["Sito web"][hours.index(at(2, 11))] == 1
    assert series["=Chat"][hours.index(at(6, 12))] == 2


def test_an_agent_sees_only_their_own_figures():
    w = build()
    body = get(w["giulia"], by="agent").json()
    assert body["scope"] == "own"
    assert [(g["name"], g["conversations"]) for g in body["groups"]] == [("Giulia", 2)]
    assert body["totals"]["conversations"] == 2
    everyone = get(w["sara"], by="agent").json()
    assert {g["name"]: g["conversations"] for g in everyone["groups"]} == {"Giulia": 2, "Marco": 1, "Unassigned": 2}
    assert everyone["groups"][-1]["key"] == ""


def test_by_kind_and_team():
    w = build()
    kinds = get(w["sara"], by="kind").json()["groups"]
    assert [(g["key"], g["conversations"]) for g in kinds] == [("api", 5)]
    teams = get(w["sara"], by="team").json()["groups"]
    assert [(g["name"], g["conversations"]) for g in teams] == [("No team", 5)]


def test_csv_has_a_row_per_group_and_no_formulas():
    w = build()
    r = get(w["sara"], format="csv")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert "adesso-report-channel-2026-11-02-2026-11-08.csv" in r["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[0][:4] == ["channel", "key", "conversations", "answered"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"'=Chat", "Sito web", "All"}
    assert by_name["Sito web"][2:4] == ["2", "2"]
    backlog = list(csv.reader(io.StringIO(get(w["sara"], format="csv", table="backlog").content.decode())))
    assert backlog[0][:2] == ["hour", "total"] and len(backlog) == 1 + 7 * 24


@pytest.mark.parametrize("params, message", [
    ({"from": "2026-13-01"}, "from must be a date"),
    ({"from": "2026-11-09", "to": "2026-11-02"}, "starts"),
    ({"from": "2024-01-01", "to": "2026-11-02"}, "at most 366 days"),
    ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
])
def test_bad_periods_are_clear_422s(params, message):
    agent = make_agent(make_org())
    r = AgentApi(agent).get("/reports", **params)
    assert r.status_code == 422, r.content
    assert r.json()["error"] == "invalid_period"
    assert message in r.json()["message"]


def test_bad_grouping_is_a_422():
    r = AgentApi(make_agent(make_org())).get("/reports", by="planet")
    assert r.status_code == 422 and r.json()["error"] == "invalid"


def test_default_period_is_the_last_seven_days():
    agent = make_agent(make_org())
    with time_machine.travel(NOW, tick=False):
        body = AgentApi(agent).get("/reports").json()
    assert (body["from"], body["to"]) == ("2026-10-31", "2026-11-06")
    assert body["totals"]["conversations"] == 0 and body["totals"]["within_target_share"] is None


def test_documented_in_openapi():
    agent = make_agent(make_org())
    schema = AgentApi(agent).get("/openapi.json").json()
    params = {p["name"] for p in schema["paths"]["/api/v1/reports"]["get"]["parameters"]}
    assert {"from", "to", "by", "format", "table", "timezone"} <= params
    assert "/api/v1/reports/staffing" in schema["paths"]


def test_a_period_is_whole_local_days_even_when_the_clocks_change():
    from adesso.reports.periods import parse_period

    autumn = parse_period("2026-10-25", "2026-10-25", "Europe/Rome")  # 03:00 back to 02:00
    hours = autumn.hours()
    assert len(hours) == 25 and hours[0] == dt.datetime(2026, 10, 25, tzinfo=ROME)
    assert [h.hour for h in hours[:4]] == [0, 1, 2, 2]
    assert len(parse_period("2026-03-29", "2026-03-29").hours()) == 23
    assert parse_period("2026-11-02", "2026-11-08").days == 7
