"""The agent's inbox through the API: GET /api/v1/conversations."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from adesso.accounts.models import Role
from tests.builders import (
    AgentApi,
    customer_writes,
    make_agent,
    make_api_channel,
    make_org,
    make_team,
)

pytestmark = pytest.mark.django_db


def codes(response):
    assert response.status_code == 200, response.content
    return [item["code"] for item in response.json()["items"]]


def test_open_conversations_longest_waiting_first_then_those_not_waiting():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    ch = make_api_channel(org)
    first = customer_writes(ch, sender_id="a")["conversation"]
    second = customer_writes(ch, sender_id="b")["conversation"]
    third = customer_writes(ch, sender_id="c")["conversation"]
    assert giulia.post(f"/conversations/{second}/messages", {"text": "Eccomi"}).status_code == 201

    r = giulia.get("/conversations")

    assert codes(r) == [first, third, second]
    body = r.json()
    assert body["count"] == 3
    assert (body["limit"], body["offset"]) == (50, 0)
    waiting = body["items"][0]
    assert waiting["waiting_seconds"] >= 0
    assert waiting["status"] == "open"
    assert waiting["channel"]["code"] == ch.channel.code
    assert waiting["contact"]["name"] == "Mario Bianchi"
    assert waiting["last_message_preview"] == "Buongiorno, il mio ordine?"
    assert body["items"][2]["waiting_since"] is None
    assert body["items"][2]["waiting_seconds"] is None
    assert body["items"][2]["assignee"]["code"] == giulia.agent.code


def test_status_filter():
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    open_ = customer_writes(ch, sender_id="a")["conversation"]
    pending = customer_writes(ch, sender_id="b")["conversation"]
    snoozed = customer_writes(ch, sender_id="c")["conversation"]
    resolved = customer_writes(ch, sender_id="d")["conversation"]
    api.post(f"/conversations/{pending}/status", {"status": "pending"})
    api.post(f"/conversations/{snoozed}/snooze", {"until": (timezone.now() + dt.timedelta(days=1)).isoformat()})
    api.post(f"/conversations/{resolved}/messages", {"text": "Fatto: rimborso emesso oggi."})
    api.post(f"/conversations/{resolved}/status", {"status": "resolved"})

    assert codes(api.get("/conversations")) == [open_]
    assert codes(api.get("/conversations", status="open")) == [open_]
    assert codes(api.get("/conversations", status="pending")) == [pending]
    assert codes(api.get("/conversations", status="snoozed")) == [snoozed]
    assert codes(api.get("/conversations", status="resolved")) == [resolved]
    assert codes(api.get("/conversations", status="all")) == [open_, pending, snoozed, resolved]


def test_assignee_filter_me_none_and_an_agent():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    marco = make_agent(org, "Marco")
    ch = make_api_channel(org)
    mine = customer_writes(ch, sender_id="a")["conversation"]
    marcos = customer_writes(ch, sender_id="b")["conversation"]
    nobodys = customer_writes(ch, sender_id="c")["conversation"]
    giulia.post(f"/conversations/{mine}/assign", {"assignee": giulia.agent.code})
    giulia.post(f"/conversations/{marcos}/assign", {"assignee": marco.code})

    assert codes(giulia.get("/conversations", assignee="me")) == [mine]
    assert codes(giulia.get("/conversations", assignee="none")) == [nobodys]
    assert codes(giulia.get("/conversations", assignee=marco.code)) == [marcos]
    assert codes(giulia.get("/conversations", assignee="nobody-has-this-code")) == []


def test_team_filter_by_code_and_mine():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    marco = make_agent(org, "Marco")
    billing = make_team(org, "Fatturazione", [giulia.agent])
    shipping = make_team(org, "Spedizioni", [marco])
    ch = make_api_channel(org)
    invoice = customer_writes(ch, sender_id="a")["conversation"]
    parcel = customer_writes(ch, sender_id="b")["conversation"]
    customer_writes(ch, sender_id="c")
    giulia.post(f"/conversations/{invoice}/assign", {"team": billing.code})
    giulia.post(f"/conversations/{parcel}/assign", {"team": shipping.code})

    assert codes(giulia.get("/conversations", team=billing.code)) == [invoice]
    assert codes(giulia.get("/conversations", team=shipping.code)) == [parcel]
    assert codes(giulia.get("/conversations", team="mine")) == [invoice]


def test_channel_filter():
    org = make_org()
    api = AgentApi(make_agent(org))
    web, app = make_api_channel(org, "Sito web"), make_api_channel(org, "App")
    on_web = customer_writes(web)["conversation"]
    on_app = customer_writes(app)["conversation"]

    assert codes(api.get("/conversations", channel=web.channel.code)) == [on_web]
    assert codes(api.get("/conversations", channel=app.channel.code)) == [on_app]


def test_other_orderings():
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    older = customer_writes(ch, sender_id="a")["conversation"]
    newer = customer_writes(ch, sender_id="b")["conversation"]
    # The older conversation becomes the most recently active.
    api.post(f"/conversations/{older}/priority", {"priority": 3})

    assert codes(api.get("/conversations", ordering="created")) == [older, newer]
    assert codes(api.get("/conversations", ordering="-created")) == [newer, older]
    assert codes(api.get("/conversations", ordering="updated")) == [newer, older]
    assert codes(api.get("/conversations", ordering="-updated")) == [older, newer]


def test_pagination():
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    everyone = [customer_writes(ch, sender_id=f"c{i}")["conversation"] for i in range(5)]

    page1 = api.get("/conversations", limit=2)
    page2 = api.get("/conversations", limit=2, offset=2)
    page3 = api.get("/conversations", limit=2, offset=4)
    beyond = api.get("/conversations", limit=2, offset=10)

    assert codes(page1) + codes(page2) + codes(page3) == everyone
    assert [p.json()["count"] for p in (page1, page2, page3, beyond)] == [5, 5, 5, 5]
    assert page2.json()["offset"] == 2
    assert codes(beyond) == []


@pytest.mark.parametrize(
    ("params", "status", "error", "says"),
    [
        ({"status": "closed"}, 400, "invalid_filter", "closed"),
        ({"ordering": "oldest"}, 400, "invalid_filter", "oldest"),
        ({"limit": "0"}, 422, "invalid", "limit"),
        ({"limit": "201"}, 422, "invalid", "limit"),
        ({"limit": "many"}, 422, "invalid", "limit"),
        ({"offset": "-1"}, 422, "invalid", "offset"),
        ({"offset": str(10**30)}, 422, "invalid", "offset"),
        ({"channel": "x" * 65}, 422, "invalid", "channel"),
        ({"team": "a\x00b"}, 400, "invalid_text", "NUL"),
    ],
)
def test_bad_filter_is_a_clear_4xx(params, status, error, says):
    org = make_org()
    api = AgentApi(make_agent(org))
    customer_writes(make_api_channel(org))

    r = api.get("/conversations", **params)

    assert r.status_code == status, r.content
    assert r.json()["error"] == error
    assert says in r.json()["message"]


def _inbox_of(size: int) -> AgentApi:
    """An organisation whose `size` conversations have every relation the list shows."""
    org = make_org()
    agents = [make_agent(org, "Giulia"), make_agent(org, "Marco", role=Role.SUPERVISOR)]
    teams = [make_team(org, "Fatturazione", agents[:1]), make_team(org, "Spedizioni", agents)]
    channels = [make_api_channel(org, "Sito web"), make_api_channel(org, "App")]
    api = AgentApi(agents[0])
    for i in range(size):
        code = customer_writes(channels[i % 2], sender_id=f"c{i}")["conversation"]
        api.post(f"/conversations/{code}/assign", {"assignee": agents[i % 2].code, "team": teams[i % 2].code})
    return api


@pytest.mark.parametrize(
    "params",
    [
        {"status": "all"},
        {"assignee": "me"},
        {"team": "mine", "ordering": "-updated"},
    ],
)
def test_query_count_does_not_grow_with_the_page(django_assert_num_queries, params):
    small, big = _inbox_of(2), _inbox_of(20)
    with CaptureQueriesContext(connection) as queries:
        assert small.get("/conversations", **params).status_code == 200

    with django_assert_num_queries(len(queries)):
        r = big.get("/conversations", **params)

    assert len(r.json()["items"]) >= 10
