"""Full-text search: GET /api/v1/search?q=."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adesso.accounts.models import User
from adesso.conversations.models import Conversation
from adesso.conversations.search import search_messages
from tests.builders import (
    AgentApi,
    attachment,
    customer_writes,
    make_agent,
    make_api_channel,
    make_org,
)

pytestmark = pytest.mark.django_db


def found(response):
    assert response.status_code == 200, response.content
    return [m["code"] for m in response.json()["messages"]]


def test_rimborsi_finds_rimborso_by_stem_on_postgresql_and_the_exact_word_anywhere():
    """Acceptance 6."""
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    refund = customer_writes(ch, "Vorrei il rimborso dell'ordine 4411", sender_id="a")["message"]
    customer_writes(ch, "Quando arriva il pacco?", sender_id="b")

    assert found(api.get("/search", q="rimborso")) == [refund]
    by_stem = found(api.get("/search", q="rimborsi"))
    if connection.vendor == "postgresql":
        assert by_stem == [refund]
    else:  # SQLite matches substrings only
        assert by_stem == []


def test_message_results_carry_their_conversation_and_channel():
    org = make_org()
    api = AgentApi(make_agent(org, "Giulia"))
    ch = make_api_channel(org)
    received = customer_writes(ch, "Il pacco è arrivato rotto")
    api.post(f"/conversations/{received['conversation']}/messages", {"text": "Mandiamo un pacco nuovo"})

    r = api.get("/search", q="pacco")

    assert r.status_code == 200
    results = r.json()["messages"]
    assert {m["text"] for m in results} == {"Il pacco è arrivato rotto", "Mandiamo un pacco nuovo"}
    assert {m["conversation"] for m in results} == {received["conversation"]}
    assert {m["channel"] for m in results} == {ch.channel.code}


def test_contacts_found_by_name_email_or_phone():
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    received = customer_writes(
        ch,
        "Salve",
        sender={
            "name": "Lucia Verdi",
            "email": "lucia.verdi@example.org",
            "phone": "+39 347 7654321",
        },
    )
    code = api.get(f"/conversations/{received['conversation']}").json()["contact"]["code"]

    for q in ("Lucia", "verdi@EXAMPLE", "347 765 4321", "+393477654321", "cust-1"):
        r = api.get("/search", q=q)
        assert [c["code"] for c in r.json()["contacts"]] == [code], q
    assert api.get("/search", q="Giovanni").json() == {"messages": [], "contacts": []}


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({}, 422, "invalid"),
        ({"q": ""}, 422, "invalid"),
        ({"q": "   "}, 422, "invalid"),
        ({"q": "x" * 201}, 422, "invalid"),
        ({"q": "rimborso\x00"}, 400, "invalid_text"),
    ],
)
def test_bad_query_is_a_clear_4xx(params, status, error):
    org = make_org()
    api = AgentApi(make_agent(org))
    customer_writes(make_api_channel(org), "Vorrei il rimborso")

    r = api.get("/search", **params)

    assert r.status_code == status, r.content
    assert r.json()["error"] == error
    assert r.json()["message"]


@pytest.mark.parametrize("q", ['"rimborso', "rimborso OR", "-", "&|!():*", "'; drop table", "%_\\"])
def test_query_syntax_never_breaks_the_search(q):
    org = make_org()
    api = AgentApi(make_agent(org))
    customer_writes(make_api_channel(org), "Vorrei il rimborso")

    assert api.get("/search", q=q).status_code == 200


def _searchable(size: int) -> AgentApi:
    org = make_org()
    api = AgentApi(make_agent(org))
    web, app = make_api_channel(org, "Sito web"), make_api_channel(org, "App")
    for i in range(size):
        received = customer_writes(
            [web, app][i % 2],
            f"Rimborso numero {i}",
            sender_id=f"c{i}",
            sender={"name": f"Rimborso Cliente {i}"},
            attachments=[attachment()],
        )
        api.post(f"/conversations/{received['conversation']}/messages", {"text": "Rimborso fatto"})
    return api


def test_query_count_does_not_grow_with_the_results(django_assert_num_queries):
    small, big = _searchable(2), _searchable(20)
    with CaptureQueriesContext(connection) as queries:
        assert small.get("/search", q="rimborso").status_code == 200

    with django_assert_num_queries(len(queries)):
        r = big.get("/search", q="rimborso")

    assert len(r.json()["messages"]) == 40
    assert len(r.json()["contacts"]) == 20


def test_search_uses_the_gin_indexes_on_a_big_table():
    """The SQL must repeat the indexed expression exactly, or PostgreSQL reads every message.

    SQLite has no such index (the migration creates it on PostgreSQL only) and
    searches by substring.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'message_text_%'")
            assert cursor.fetchall() == []
        return
    org = make_org()
    received = customer_writes(make_api_channel(org), "Vorrei il rimborso")
    agent = User.objects.get(pk=make_agent(org).pk)
    conversation = Conversation.objects.get(code=received["conversation"])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO conversations_message (organization_id, conversation_id, channel_id, code,"
            " direction, internal, auto, text, html, created_at, delivery_status)"
            " SELECT %s, %s, %s, 'bulk' || g, 'incoming', false, false,"
            " 'Messaggio ' || g || ' sul pacco in consegna', '', now(), ''"
            " FROM generate_series(1, 30000) AS g",
            [org.pk, conversation.pk, conversation.channel_id],
        )
        cursor.execute("ANALYZE conversations_message")
        sql, params = search_messages(agent, "rimborsi").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "message_text_italian_fts" in plan, plan
    assert "message_text_english_fts" in plan, plan
    assert [m.code for m in search_messages(agent, "rimborsi")] == [received["message"]]
