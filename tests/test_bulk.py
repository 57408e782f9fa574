"""Bulk actions: POST /api/v1/conversations/bulk and the inbox's bar (assign, tag, resolve,
snooze), one result per conversation; resolving unanswered ones takes one reason for all."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from adesso.conversations.actions import do_assign, do_send_reply
from adesso.conversations.models import Conversation, ConversationEvent
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def three_waiting(org):
    ch = make_api_channel(org)
    return [customer_writes(ch, f"Messaggio {n}", sender_id=f"c{n}")["conversation"] for n in range(3)]


def statuses(codes):
    return [Conversation.objects.get(code=c).status for c in codes]


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


def test_api_resolve_needs_one_reason_for_the_unanswered_and_answers_per_code():
    org = make_org()
    giulia = make_agent(org, "Giulia")
    api = AgentApi(giulia)
    answered, waiting, other = three_waiting(org)
    do_send_reply(giulia, Conversation.objects.get(code=answered), "Fatto, rimborso inviato.")

    r = api.post("/conversations/bulk", {"codes": [answered, waiting, "nope"], "action": "resolve"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["done"], body["failed"]) == (1, 2)
    assert [(x["code"], x["ok"], x["error"]) for x in body["results"]] == [
        (answered, True, None),
        (waiting, False, "unanswered"),
        ("nope", False, "not_found"),
    ]
    assert body["results"][0]["conversation"]["status"] == "resolved"
    assert body["results"][2]["conversation"] is None
    assert statuses([answered, waiting, other]) == ["resolved", "open", "open"]

    r = api.post(
        "/conversations/bulk",
        {"codes": [waiting, other], "action": "resolve", "reason": "Spam, nessuna risposta serve"},
    )
    assert r.json()["done"] == 2
    assert statuses([waiting, other]) == ["resolved", "resolved"]
    for code in (waiting, other):
        event = ConversationEvent.objects.get(conversation__code=code, kind="status_changed")
        assert event.data["reason"] == "Spam, nessuna risposta serve"
        assert event.data["unanswered"] is True
        assert Conversation.objects.get(code=code).waiting_since is None


def test_api_assign_tag_and_snooze_many():
    org = make_org()
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    api = AgentApi(giulia)
    codes = three_waiting(org)

    r = api.post("/conversations/bulk", {"codes": codes, "action": "assign", "assignee": marco.code})
    assert r.json()["done"] == 3
    assert {Conversation.objects.get(code=c).assignee for c in codes} == {marco}
    # Moving them away from Marco is a transfer: it needs the handover note.
    r = api.post("/conversations/bulk", {"codes": codes[:1], "action": "assign", "assignee": giulia.code})
    assert r.json()["results"][0]["error"] == "note_required"
    r = api.post(
        "/conversations/bulk",
        {"codes": codes[:1], "action": "assign", "assignee": giulia.code, "note": "Marco è in ferie"},
    )
    assert r.json()["results"][0]["conversation"]["assignee"]["code"] == giulia.code

    r = api.post("/conversations/bulk", {"codes": codes[:2], "action": "tag", "tag": "Reso"})
    assert [x["conversation"]["tags"] for x in r.json()["results"]] == [["reso"], ["reso"]]
    api.post("/conversations/bulk", {"codes": codes[:1], "action": "untag", "tag": "reso"})
    assert [Conversation.objects.get(code=c).tag_names for c in codes] == [[], ["reso"], []]

    until = (timezone.now() + dt.timedelta(hours=3)).isoformat()
    r = api.post("/conversations/bulk", {"codes": codes[1:], "action": "snooze", "until": until})
    assert r.json()["done"] == 2
    assert statuses(codes) == ["open", "snoozed", "snoozed"]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"codes": [], "action": "resolve"}, 422, "invalid"),
        ({"codes": ["a"] * 101, "action": "resolve"}, 422, "invalid"),
        ({"codes": ["a/b"], "action": "resolve"}, 422, "invalid"),
        ({"codes": ["a"], "action": "explode"}, 422, "invalid"),
        ({"codes": ["a"], "action": "tag", "tag": "<b>"}, 400, "invalid_tag"),
        ({"codes": ["a"], "action": "snooze"}, 400, "invalid_time"),
        ({"codes": ["a"], "action": "snooze", "until": "2030-01-01T10:00:00"}, 400, "invalid_time"),
        ({"codes": ["a"], "action": "snooze", "until": "9999-12-31T23:59:59-14:00"}, 422, "invalid"),
        ({"codes": ["a"], "action": "assign", "assignee": "nobody"}, 404, "not_found"),
    ],
)
def test_api_bad_bulk_requests_are_4xx(body, status, error):
    api = AgentApi(make_agent(make_org(), "Giulia"))
    r = api.post("/conversations/bulk", body)
    assert r.status_code == status, r.content
    assert r.json()["error"] == error


def test_api_bulk_never_touches_another_organisations_conversations():
    ours, theirs = make_org(), make_org("Ferramenta Verdi")
    api = AgentApi(make_agent(ours, "Giulia"))
    luca = make_agent(theirs, "Luca")
    their_codes = three_waiting(theirs)
    do_assign(luca, Conversation.objects.get(code=their_codes[0]), luca)

    r = api.post("/conversations/bulk", {"codes": their_codes, "action": "resolve", "reason": "x"})
    assert [x["error"] for x in r.json()["results"]] == ["not_found"] * 3
    r = api.post("/conversations/bulk", {"codes": their_codes, "action": "assign", "assignee": luca.code})
    assert r.status_code == 404  # their agent is no agent of ours
    assert statuses(their_codes) == ["open", "open", "open"]


def test_inbox_bar_resolves_asking_one_reason_for_all_the_unanswered():
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    codes = three_waiting(org)
    client = logged_in(giulia)

    page = client.get("/").content.decode()
    assert 'id="bulk-form"' in page
    assert f'name="codes" value="{codes[0]}" form="bulk-form"' in page
    assert 'id="pick-all"' in page

    r = client.post("/inbox/bulk", {"codes": codes[:2], "action": "resolve", "next": "/?status=open"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "2 customers are still waiting for an answer" in html
    assert html.count('name="codes"') == 2
    assert statuses(codes) == ["open", "open", "open"]

    r = client.post(
        "/inbox/bulk",
        {"codes": codes[:2], "action": "resolve", "reason": "Doppioni", "next": "/?status=open"},
        follow=True,
    )
    assert r.redirect_chain[-1][0] == "/?status=open"
    assert "2 conversations resolved." in r.content.decode()
    assert statuses(codes) == ["resolved", "resolved", "open"]


def test_inbox_bar_assigns_tags_and_snoozes():
    org = make_org()
    giulia, marco = make_agent(org, "Giulia", language="en"), make_agent(org, "Marco")
    codes = three_waiting(org)
    client = logged_in(giulia)

    r = client.post("/inbox/bulk", {"codes": codes, "action": "assign", "assignee": "me"}, follow=True)
    assert "3 conversations assigned." in r.content.decode()
    r = client.post("/inbox/bulk", {"codes": codes[:1], "action": "assign", "assignee": marco.code}, follow=True)
    assert "A transfer needs a handover note" in r.content.decode()
    client.post("/inbox/bulk", {"codes": codes[:2], "action": "tag", "tag": "reso"})
    r = client.post("/inbox/bulk", {"codes": codes[2:], "action": "snooze", "preset": "1h"}, follow=True)
    assert "1 conversation snoozed." in r.content.decode()
    assert [Conversation.objects.get(code=c).tag_names for c in codes] == [["reso"], ["reso"], []]
    assert statuses(codes) == ["open", "open", "snoozed"]
    assert {Conversation.objects.get(code=c).assignee for c in codes} == {giulia}

    r = client.post("/inbox/bulk", {"action": "resolve"}, follow=True)
    assert "Select at least one conversation." in r.content.decode()
    r = client.post("/inbox/bulk", {"codes": codes, "action": "assign", "next": "https://evil.example/"})
    assert r["Location"] == "/"
