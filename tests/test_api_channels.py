"""Channels through the API: GET and POST /api/v1/channels."""

import pytest
from django.test import Client

from adesso.accounts.models import Role
from adesso.channels.models import Channel
from adesso.conversations.models import Message
from tests.builders import (
    AgentApi,
    inbound_payload,
    make_agent,
    make_api_channel,
    make_org,
    receive_inbound,
)
from tests.builders import ApiChannel as BuiltChannel

pytestmark = pytest.mark.django_db


def test_everyone_lists_their_organisations_channels():
    org = make_org()
    make_api_channel(org, "Sito web")
    make_api_channel(org, "App")
    make_api_channel(make_org("Altra"), "Sito altrui")

    r = AgentApi(make_agent(org)).get("/channels")

    assert r.status_code == 200
    assert [(c["name"], c["kind"], c["is_enabled"]) for c in r.json()] == [
        ("App", "api", True),
        ("Sito web", "api", True),
    ]
    assert "token" not in r.json()[0]


def test_admin_creates_an_api_channel_whose_token_then_works_for_intake():
    org = make_org()
    anna = AgentApi(make_agent(org, "Anna", role=Role.ADMIN))

    r = anna.post("/channels", {"kind": "api", "name": "  Negozio online  "})

    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["kind"], body["name"], body["is_enabled"]) == ("api", "Negozio online", True)
    assert body["token"].startswith("ach_")
    assert body["inbound_url"].endswith(f"/api/v1/inbound/{body['code']}")
    channel = Channel.objects.get(code=body["code"])
    assert channel.organization == org
    assert body["token"] not in channel.token_hash
    # The webhook signing key is shown once, here, and is the one replies are signed with.
    assert len(body["signing_secret"]) >= 24
    assert body["signing_secret"] == channel.config["signing_secret"]
    assert "signing_secret" not in anna.get("/channels").json()[0]
    intake = receive_inbound(Client(), BuiltChannel(channel, body["token"]), inbound_payload())
    assert Message.objects.get(code=intake["message"]).channel == channel
    assert [c["code"] for c in anna.get("/channels").json()] == [body["code"]]


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_only_admins_create_channels(role):
    org = make_org()
    api = AgentApi(make_agent(org, role=role))

    r = api.post("/channels", {"kind": "api", "name": "Negozio"})

    assert r.status_code == 403
    assert r.json() == {"error": "forbidden", "message": "Only admins manage channels"}
    assert Channel.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "error", "says"),
    [
        ({"kind": "fax", "name": "Fax"}, 400, "invalid_kind", "fax"),
        ({"kind": "api", "name": "Hook", "config": {"webhook_url": "not a url"}}, 400, "invalid_config", "URL"),
        ({"kind": "api", "name": "   "}, 422, "invalid", "name"),
        ({"kind": "api"}, 422, "invalid", "name"),
        ({"name": "Negozio"}, 422, "invalid", "kind"),
        ({"kind": "api", "name": "x" * 201}, 422, "invalid", "name"),
        ({"kind": "api", "name": "Negozio", "config": "webhook"}, 422, "invalid", "config"),
    ],
)
def test_bad_channel_is_refused_and_nothing_created(body, status, error, says):
    api = AgentApi(make_agent(make_org(), role=Role.ADMIN))

    r = api.post("/channels", body)

    assert r.status_code == status, r.content
    assert r.json()["error"] == error
    assert says in r.json()["message"]
    assert Channel.objects.count() == 0
