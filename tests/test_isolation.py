"""Acceptance 4: an agent of organisation A never sees or touches organisation B.

Every endpoint and method, with B's real codes: 404, or absence from lists and
results. And the API's door: no token, a bad token, a deactivated agent's token.
"""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from adesso.accounts.models import Role
from adesso.contacts.models import Contact, ContactMerge
from adesso.conversations.models import Conversation, ConversationEvent, Message
from tests.builders import (
    AgentApi,
    customer_writes,
    inbound_payload,
    make_agent,
    make_api_channel,
    make_org,
    make_team,
    post_inbound,
)

pytestmark = pytest.mark.django_db

SECRET_WORD = "zanzibar"


def two_organisations():
    """Organisation A with its admin, organisation B with a conversation, a contact,
    a merge, a team, a channel and a word only B's customers used."""
    a, b = make_org("Pasticceria Rossi"), make_org("Ferramenta Neri")
    alice = AgentApi(make_agent(a, "Alice", role=Role.ADMIN))
    own = customer_writes(make_api_channel(a, "Sito"), "Buongiorno", sender_id="a-1")
    bruno = AgentApi(make_agent(b, "Bruno", role=Role.ADMIN))
    b_channel = make_api_channel(b, "Negozio")
    theirs = customer_writes(
        b_channel,
        f"Ordine {SECRET_WORD}",
        sender_id="b-1",
        sender={"name": "Zeno Zanzibar", "email": "zeno@example.com"},
    )
    other = customer_writes(b_channel, "Altro", sender_id="b-2")
    b_contact = bruno.get(f"/conversations/{theirs['conversation']}").json()["contact"]["code"]
    b_other = bruno.get(f"/conversations/{other['conversation']}").json()["contact"]["code"]
    merge = bruno.post(f"/contacts/{b_other}/merge", {"into": b_contact}).json()["merge"]
    b_team = make_team(b, "Magazzino", [bruno.agent])
    bruno.post(f"/conversations/{theirs['conversation']}/assign", {"assignee": bruno.agent.code, "team": b_team.code})
    return {
        "alice": alice,
        "own_conversation": own["conversation"],
        "own_contact": alice.get(f"/conversations/{own['conversation']}").json()["contact"]["code"],
        "bruno": bruno.agent,
        "conversation": theirs["conversation"],
        "contact": b_contact,
        "merge": merge,
        "team": b_team.code,
        "channel": b_channel.channel.code,
    }


def snapshot():
    return (
        list(Conversation.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        list(ContactMerge.objects.order_by("pk").values()),
        Message.objects.count(),
        ConversationEvent.objects.count(),
    )


def b_requests(w):
    """(method, path, body) for every agent endpoint that names one of B's objects."""
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    conversation, contact = w["conversation"], w["contact"]
    return [
        ("get", f"/conversations/{conversation}", None),
        ("post", f"/conversations/{conversation}/messages", {"text": "Ciao"}),
        ("post", f"/conversations/{conversation}/messages", {"text": "Nota", "internal": True}),
        ("post", f"/conversations/{conversation}/assign", {"assignee": w["alice"].agent.code}),
        ("post", f"/conversations/{conversation}/status", {"status": "resolved"}),
        ("post", f"/conversations/{conversation}/snooze", {"until": later}),
        ("post", f"/conversations/{conversation}/priority", {"priority": 3}),
        ("get", f"/contacts/{contact}", None),
        ("patch", f"/contacts/{contact}", {"name": "Rubato"}),
        ("post", f"/contacts/{contact}/merge", {"into": w["own_contact"]}),
        ("post", f"/contacts/merges/{w['merge']}/undo", {}),
        # A's own objects pointed at B's.
        ("post", f"/contacts/{w['own_contact']}/merge", {"into": contact}),
        ("post", f"/conversations/{w['own_conversation']}/assign", {"assignee": w["bruno"].code}),
        ("post", f"/conversations/{w['own_conversation']}/assign", {"team": w["team"]}),
    ]


def test_every_endpoint_answers_404_for_the_other_organisations_objects():
    w = two_organisations()
    alice = w["alice"]
    before = snapshot()

    answers = []
    for method, path, body in b_requests(w):
        if method == "get":
            r = alice.get(path)
        else:
            r = alice.send(method, path, json.dumps(body))
        answers.append((method, path, r.status_code, r.json()["error"]))

    assert answers == [(method, path, 404, "not_found") for method, path, _ in b_requests(w)]
    assert snapshot() == before


def test_lists_and_search_show_nothing_of_the_other_organisation():
    w = two_organisations()
    alice = w["alice"]

    conversations = alice.get("/conversations", status="all").json()
    contacts = alice.get("/contacts").json()
    search = alice.get("/search", q=SECRET_WORD).json()
    by_email = alice.get("/search", q="zeno@example.com").json()

    assert [c["code"] for c in conversations["items"]] == [w["own_conversation"]]
    assert conversations["count"] == 1
    assert [c["code"] for c in contacts["items"]] == [w["own_contact"]]
    assert search == {"messages": [], "contacts": []}
    assert by_email == {"messages": [], "contacts": []}
    assert [c["name"] for c in alice.get("/channels").json()] == ["Sito"]
    assert [a["name"] for a in alice.get("/agents").json()] == ["Alice"]
    assert alice.get("/teams").json() == []
    assert alice.get("/me").json()["code"] == alice.agent.code
    # B's search really finds it: the emptiness above is isolation, not a miss.
    bruno = AgentApi(w["bruno"])
    assert len(bruno.get("/search", q=SECRET_WORD).json()["messages"]) == 1


def test_filters_naming_the_other_organisations_objects_find_nothing():
    w = two_organisations()
    alice = w["alice"]

    by_agent = alice.get("/conversations", status="all", assignee=w["bruno"].code)
    by_team = alice.get("/conversations", status="all", team=w["team"])
    by_channel = alice.get("/conversations", status="all", channel=w["channel"])

    assert [r.status_code for r in (by_agent, by_team, by_channel)] == [200, 200, 200]
    assert [r.json()["count"] for r in (by_agent, by_team, by_channel)] == [0, 0, 0]
    bruno = AgentApi(w["bruno"])
    assert bruno.get("/conversations", status="all", team=w["team"]).json()["count"] == 1


def test_a_merge_suggestion_never_crosses_organisations():
    w = two_organisations()
    alice = w["alice"]

    alice.patch(f"/contacts/{w['own_contact']}", {"email": "zeno@example.com"})

    assert alice.get(f"/contacts/{w['own_contact']}").json()["merge_suggestions"] == []


def _401(r):
    assert r.status_code == 401, r.content
    assert r["Content-Type"] == "application/json; charset=utf-8"
    assert r.json() == {
        "error": "unauthorized",
        "message": "A valid 'Authorization: Bearer <token>' is required",
    }
    return True


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer nope",
        "Basic YWxpY2U6c2VjcmV0",
        "Bearer adt_forged",
        "Token CHANNEL",
        "Bearer CHANNEL",
    ],
)
def test_no_token_or_a_bad_one_is_401_json(authorization):
    org = make_org()
    ch = make_api_channel(org)
    code = customer_writes(ch)["conversation"]
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.replace("CHANNEL", ch.token)
    client = Client()

    assert _401(client.get("/api/v1/conversations", headers=headers))
    assert _401(client.get(f"/api/v1/conversations/{code}", headers=headers))
    assert _401(
        client.post(
            f"/api/v1/conversations/{code}/messages", {"text": "x"}, content_type="application/json", headers=headers
        )
    )
    assert Message.objects.count() == 1


def test_a_deactivated_agents_tokens_are_refused():
    org = make_org()
    api = AgentApi(make_agent(org))
    assert api.get("/me").status_code == 200

    api.agent.is_active = False
    api.agent.save(update_fields=["is_active"])

    assert _401(api.get("/me"))
    assert _401(api.get("/conversations"))
    assert _401(api.post("/channels", {"kind": "api", "name": "x"}))


def test_an_agent_token_does_not_open_the_inbound_endpoint():
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    agent_token = api.headers["Authorization"].removeprefix("Bearer ")

    r = post_inbound(Client(), ch, inbound_payload(), token=agent_token)

    assert r.status_code == 401
    assert Message.objects.count() == 0
