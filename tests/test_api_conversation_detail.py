"""Reading one conversation: GET /api/v1/conversations/{code}."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders import (
    AgentApi,
    attachment,
    customer_writes,
    make_agent,
    make_api_channel,
    make_org,
)

pytestmark = pytest.mark.django_db


def test_messages_events_and_attachments():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    ch = make_api_channel(org)
    received = customer_writes(ch, "Il pacco è arrivato rotto", attachments=[attachment("foto.txt")])
    code = received["conversation"]
    giulia.post(f"/conversations/{code}/messages", {"text": "Ci dispiace, rimborsiamo", "internal": False})
    giulia.post(f"/conversations/{code}/messages", {"text": "Cliente VIP", "internal": True})

    r = giulia.get(f"/conversations/{code}")

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["code"] == code
    assert [(m["direction"], m["internal"], m["text"]) for m in body["messages"]] == [
        ("incoming", False, "Il pacco è arrivato rotto"),
        ("outgoing", False, "Ci dispiace, rimborsiamo"),
        ("outgoing", True, "Cliente VIP"),
    ]
    first = body["messages"][0]
    assert first["code"] == received["message"]
    assert first["channel"] == ch.channel.code
    assert first["author"] is None
    assert [(a["filename"], a["size"]) for a in first["attachments"]] == [("foto.txt", 12)]
    assert first["attachments"][0]["url"] == f"/attachments/{first['attachments'][0]['code']}"
    assert body["messages"][1]["author"] == "Giulia"
    assert [e["kind"] for e in body["events"]] == [
        "created",
        "message_received",
        "assigned",
        "message_sent",
        "note_added",
    ]
    assert body["events"][2]["actor"] == "Giulia"
    assert body["events"][2]["data"] == {"to": giulia.agent.code, "reason": "replied"}
    assert body["handover_note"] is None
    assert body["history"] == []


def test_handover_note_is_the_latest_transfers_note():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    marco, anna = make_agent(org, "Marco"), make_agent(org, "Anna")
    code = customer_writes(make_api_channel(org))["conversation"]
    giulia.post(f"/conversations/{code}/assign", {"assignee": giulia.agent.code})
    giulia.post(f"/conversations/{code}/assign", {"assignee": marco.code, "note": "Vuole il rimborso, ordine 4411"})
    giulia.post(f"/conversations/{code}/assign", {"assignee": anna.code, "note": "Rimborso approvato, manca l'IBAN"})

    body = giulia.get(f"/conversations/{code}").json()

    assert body["handover_note"] == "Rimborso approvato, manca l'IBAN"
    assert body["assignee"]["code"] == anna.code
    transfers = [e for e in body["events"] if e["kind"] == "transferred"]
    assert [e["data"]["note"] for e in transfers] == [
        "Vuole il rimborso, ordine 4411",
        "Rimborso approvato, manca l'IBAN",
    ]


def test_contact_with_email_and_phone_has_one_timeline_across_channels():
    """Acceptance 5: two API channels, one sender known by email, one by phone;
    once merged, the conversation shows what the customer said on both."""
    org = make_org()
    api = AgentApi(make_agent(org))
    web, app = make_api_channel(org, "Sito web"), make_api_channel(org, "App")
    on_web = customer_writes(web, "Ordine 4411 non arrivato", sender_id="w-1", sender={"email": "mario@example.com"})
    on_app = customer_writes(app, "Vi ho scritto anche dal sito", sender_id="p-9", sender={"phone": "333 123 4567"})
    by_email = api.get(f"/conversations/{on_web['conversation']}").json()["contact"]["code"]
    by_phone = api.get(f"/conversations/{on_app['conversation']}").json()["contact"]["code"]
    assert by_email != by_phone

    merged = api.post(f"/contacts/{by_phone}/merge", {"into": by_email})
    assert merged.status_code == 200, merged.content

    contact = api.get(f"/contacts/{by_email}").json()
    kinds = {i["kind"]: i["value"] for i in contact["identities"] if i["kind"] != "api"}
    assert kinds == {"email": "mario@example.com", "phone": "+393331234567"}
    body = api.get(f"/conversations/{on_app['conversation']}").json()
    timeline = body["history"] + body["messages"]
    assert [(m["channel"], m["text"]) for m in timeline] == [
        (web.channel.code, "Ordine 4411 non arrivato"),
        (app.channel.code, "Vi ho scritto anche dal sito"),
    ]
    assert body["history"][0]["conversation"] == on_web["conversation"]


def test_customer_known_by_email_and_phone_is_one_contact_across_channels():
    org = make_org()
    api = AgentApi(make_agent(org))
    web, app = make_api_channel(org, "Sito web"), make_api_channel(org, "App")
    first = customer_writes(
        web, "Buongiorno", sender_id="w-1", sender={"email": "mario@example.com", "phone": "+39 333 1234567"}
    )
    second = customer_writes(app, "Sono io, dall'app", sender_id="p-9", sender={"phone": "3331234567"})

    body = api.get(f"/conversations/{second['conversation']}").json()

    assert second["conversation"] != first["conversation"]
    assert [m["text"] for m in body["history"]] == ["Buongiorno"]
    assert [m["text"] for m in body["messages"]] == ["Sono io, dall'app"]
    assert body["history"][0]["channel"] == web.channel.code
    assert body["messages"][0]["channel"] == app.channel.code


def test_unknown_conversation_is_404():
    api = AgentApi(make_agent(make_org()))

    r = api.get("/conversations/nosuchcode")

    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "No such conversation"}


def _busy_conversation(size: int) -> tuple[AgentApi, str]:
    """A conversation with `size` messages (each with an attachment), notes, transfers,
    and the contact's `size` messages on another channel."""
    org = make_org()
    giulia, marco = make_agent(org, "Giulia"), make_agent(org, "Marco")
    api = AgentApi(giulia)
    web, app = make_api_channel(org, "Sito web"), make_api_channel(org, "App")
    sender = {"email": "mario@example.com"}
    for i in range(size):
        customer_writes(app, f"Dall'app {i}", sender_id="p-1", sender=sender, attachments=[attachment(f"a{i}.txt")])
    code = ""
    for i in range(size):
        code = customer_writes(
            web, f"Dal sito {i}", sender_id="w-1", sender=sender, attachments=[attachment(f"w{i}.txt")]
        )["conversation"]
        api.post(f"/conversations/{code}/messages", {"text": f"Risposta {i}"})
        api.post(f"/conversations/{code}/messages", {"text": f"Nota {i}", "internal": True})
        new = marco if i % 2 == 0 else giulia
        api.post(f"/conversations/{code}/assign", {"assignee": new.code, "note": f"Passo {i}"})
    return api, code


def test_query_count_does_not_grow_with_messages_attachments_and_history(
    django_assert_num_queries,
):
    small, small_code = _busy_conversation(2)
    big, big_code = _busy_conversation(20)
    with CaptureQueriesContext(connection) as queries:
        assert small.get(f"/conversations/{small_code}").status_code == 200

    with django_assert_num_queries(len(queries)):
        r = big.get(f"/conversations/{big_code}")

    body = r.json()
    assert len(body["messages"]) == 60
    assert len(body["history"]) == 20
    assert all(len(m["attachments"]) == 1 for m in body["history"])
