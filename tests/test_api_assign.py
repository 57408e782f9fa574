"""Assigning and transferring: POST /api/v1/conversations/{code}/assign."""

import pytest

from adesso.conversations.models import Conversation, ConversationEvent
from tests.builders import (
    AgentApi,
    customer_writes,
    make_agent,
    make_api_channel,
    make_org,
    make_team,
)

pytestmark = pytest.mark.django_db


def events(code):
    return list(
        ConversationEvent.objects.filter(conversation__code=code)
        .exclude(kind__in=["created", "message_received"])
        .order_by("created_at", "pk")
        .values_list("kind", "data")
    )


def test_assign_an_unassigned_conversation():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    marco = make_agent(org, "Marco")
    code = customer_writes(make_api_channel(org))["conversation"]

    r = giulia.post(f"/conversations/{code}/assign", {"assignee": marco.code})

    assert r.status_code == 200, r.content
    assert r.json()["assignee"]["code"] == marco.code
    assert Conversation.objects.get(code=code).assignee == marco
    assert events(code) == [("assigned", {"from": None, "to": marco.code, "team": None})]


def test_transfer_without_a_note_is_refused():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    marco = make_agent(org, "Marco")
    code = customer_writes(make_api_channel(org))["conversation"]
    giulia.post(f"/conversations/{code}/assign", {"assignee": giulia.agent.code})

    r = giulia.post(f"/conversations/{code}/assign", {"assignee": marco.code, "note": "  "})

    assert r.status_code == 400
    assert r.json()["error"] == "note_required"
    assert "note" in r.json()["message"]
    assert Conversation.objects.get(code=code).assignee == giulia.agent
    assert [kind for kind, _ in events(code)] == ["assigned"]


def test_transfer_with_a_note_records_it_and_shows_it_first():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    marco = make_agent(org, "Marco")
    shipping = make_team(org, "Spedizioni", [marco])
    code = customer_writes(make_api_channel(org))["conversation"]
    giulia.post(f"/conversations/{code}/assign", {"assignee": giulia.agent.code})

    r = giulia.post(
        f"/conversations/{code}/assign",
        {
            "assignee": marco.code,
            "team": shipping.code,
            "note": "Corriere BRT, pacco 4411 fermo",
        },
    )

    assert r.status_code == 200, r.content
    assert r.json()["assignee"]["code"] == marco.code
    assert r.json()["team"] == {"code": shipping.code, "name": "Spedizioni"}
    assert events(code)[-1] == (
        "transferred",
        {
            "from": giulia.agent.code,
            "to": marco.code,
            "team": shipping.code,
            "note": "Corriere BRT, pacco 4411 fermo",
        },
    )
    transferred = ConversationEvent.objects.get(conversation__code=code, kind="transferred")
    assert transferred.actor == giulia.agent
    assert giulia.get(f"/conversations/{code}").json()["handover_note"] == ("Corriere BRT, pacco 4411 fermo")


def test_assign_to_a_team_only():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    billing = make_team(org, "Fatturazione", [giulia.agent])
    code = customer_writes(make_api_channel(org))["conversation"]

    r = giulia.post(f"/conversations/{code}/assign", {"team": billing.code})

    assert r.status_code == 200, r.content
    assert r.json()["assignee"] is None
    assert r.json()["team"]["code"] == billing.code
    assert events(code) == [("assigned", {"from": None, "to": None, "team": billing.code})]


def test_unassigning_an_agent_is_a_transfer_back_to_the_queue():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    code = customer_writes(make_api_channel(org))["conversation"]
    giulia.post(f"/conversations/{code}/assign", {"assignee": giulia.agent.code})

    refused = giulia.post(f"/conversations/{code}/assign", {"assignee": None})
    r = giulia.post(f"/conversations/{code}/assign", {"assignee": None, "note": "Vado in ferie"})

    assert refused.status_code == 400
    assert r.status_code == 200, r.content
    assert r.json()["assignee"] is None
    assert events(code)[-1] == (
        "transferred",
        {
            "from": giulia.agent.code,
            "to": None,
            "team": None,
            "note": "Vado in ferie",
        },
    )


def test_assigning_to_the_current_assignee_changes_nothing():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    code = customer_writes(make_api_channel(org))["conversation"]
    giulia.post(f"/conversations/{code}/assign", {"assignee": giulia.agent.code})

    r = giulia.post(f"/conversations/{code}/assign", {"assignee": giulia.agent.code})

    assert r.status_code == 200
    assert len(events(code)) == 1


def test_unknown_or_deactivated_agent_and_unknown_team_are_404():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    gone = make_agent(org, "Paolo")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    code = customer_writes(make_api_channel(org))["conversation"]

    assert giulia.post(f"/conversations/{code}/assign", {"assignee": "nobody"}).status_code == 404
    assert giulia.post(f"/conversations/{code}/assign", {"assignee": gone.code}).status_code == 404
    r = giulia.post(f"/conversations/{code}/assign", {"team": "noteam"})
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "No such team"}
    assert events(code) == []
