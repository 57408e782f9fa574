"""The API describes itself: /api/v1/openapi.json and the browsable /api/v1/docs, offline."""

import re

import pytest
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

AGENT_ENDPOINTS = {
    ("get", "/api/v1/conversations"),
    ("get", "/api/v1/conversations/{code}"),
    ("post", "/api/v1/conversations/{code}/messages"),
    ("post", "/api/v1/conversations/{code}/assign"),
    ("post", "/api/v1/conversations/{code}/status"),
    ("post", "/api/v1/conversations/{code}/snooze"),
    ("post", "/api/v1/conversations/{code}/priority"),
    ("get", "/api/v1/contacts"),
    ("get", "/api/v1/contacts/{code}"),
    ("patch", "/api/v1/contacts/{code}"),
    ("post", "/api/v1/contacts/{code}/merge"),
    ("post", "/api/v1/contacts/merges/{merge_id}/undo"),
    ("get", "/api/v1/channels"),
    ("post", "/api/v1/channels"),
    ("get", "/api/v1/channels/{code}/events"),
    ("post", "/api/v1/channels/{code}/events/{event}/replay"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/silence"),
    ("get", "/api/v1/reports"),
    ("get", "/api/v1/reports/staffing"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/agents"),
    ("get", "/api/v1/teams"),
    ("post", "/api/v1/teams"),
    ("get", "/api/v1/teams/{code}"),
    ("patch", "/api/v1/teams/{code}"),
    ("delete", "/api/v1/teams/{code}"),
    ("put", "/api/v1/teams/{code}/members"),
    ("post", "/api/v1/agents/invitations"),
    ("get", "/api/v1/agents/invitations"),
    ("post", "/api/v1/agents/invitations/{code}/revoke"),
    ("get", "/api/v1/agents/all"),
    ("put", "/api/v1/agents/{code}/role"),
    ("post", "/api/v1/agents/{code}/deactivate"),
    ("post", "/api/v1/agents/{code}/reactivate"),
    ("put", "/api/v1/me/presence"),
    ("get", "/api/v1/routing/agents"),
    ("patch", "/api/v1/agents/{code}"),
    ("get", "/api/v1/routing/queue"),
    ("get", "/api/v1/autoreplies"),
    ("put", "/api/v1/autoreplies/{purpose}/{language}"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/read"),
    ("post", "/api/v1/coach"),
    ("get", "/api/v1/coach/rules"),
    ("post", "/api/v1/coach/rules"),
    ("put", "/api/v1/coach/rules/{code}"),
    ("delete", "/api/v1/coach/rules/{code}"),
    ("get", "/api/v1/coach/settings"),
    ("put", "/api/v1/coach/settings"),
    ("get", "/api/v1/coach/stats"),
    ("get", "/api/v1/tags"),
    ("post", "/api/v1/conversations/{code}/tags"),
    ("delete", "/api/v1/conversations/{code}/tags"),
    ("post", "/api/v1/conversations/bulk"),
    ("get", "/api/v1/canned-replies"),
    ("post", "/api/v1/canned-replies"),
    ("put", "/api/v1/canned-replies/{code}"),
    ("delete", "/api/v1/canned-replies/{code}"),
    ("get", "/api/v1/canned-replies/{code}/render"),
}
INBOUND = ("post", "/api/v1/inbound/{channel_code}")
INBOUND_EVENT = ("get", "/api/v1/inbound/{channel_code}/events/{event_code}")


def openapi():
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/json")
    return r.json()


def test_openapi_document_is_valid_and_lists_every_endpoint():
    spec = openapi()

    validate(spec)
    operations = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert operations == AGENT_ENDPOINTS | {INBOUND, INBOUND_EVENT}
    assert spec["info"]["title"] == "Adesso API"


def test_agent_endpoints_use_the_bearer_token_and_inbound_the_channel_token():
    spec = openapi()
    schemes = spec["components"]["securitySchemes"]

    assert schemes["AgentToken"] == {"type": "http", "scheme": "bearer"}
    assert (schemes["ChannelToken"]["type"], schemes["ChannelToken"]["scheme"]) == ("http", "bearer")
    for method, path in AGENT_ENDPOINTS:
        assert spec["paths"][path][method]["security"] == [{"AgentToken": []}], (method, path)
    inbound = spec["paths"][INBOUND[1]][INBOUND[0]]
    assert inbound["security"] == [{"ChannelToken": []}]
    body = inbound["requestBody"]["content"]["application/json"]["schema"]
    assert {"external_id", "sender"} <= set(body["required"])
    assert {"202", "400", "401", "404", "413", "415", "422"} <= set(inbound["responses"])
    accepted = inbound["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert spec["components"]["schemas"][accepted]["required"] == ["event", "message", "duplicate"]
    event = spec["paths"][INBOUND_EVENT[1]][INBOUND_EVENT[0]]
    assert event["security"] == [{"ChannelToken": []}]
    assert {"200", "401", "404"} <= set(event["responses"])
    state = event["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    properties = spec["components"]["schemas"][state]["properties"]
    assert properties["state"]["enum"] == ["accepted", "processed", "failed", "quarantined"]
    assert {"event", "state", "conversation", "message", "error"} == set(properties)


def test_request_bodies_and_errors_are_documented():
    spec = openapi()
    reply = spec["paths"]["/api/v1/conversations/{code}/messages"]["post"]

    schema = reply["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].split("/")[-1] in spec["components"]["schemas"]
    assert {"201", "400", "404"} <= set(reply["responses"])
    assert spec["components"]["schemas"]["ErrorOut"]["required"] == ["error", "message"]


def test_docs_page_loads_only_local_assets():
    client = Client()
    r = client.get("/api/v1/docs")

    assert r.status_code == 200
    html = r.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    assert "swagger-ui-bundle.js" in html
    assert not [a for a in assets if not a.startswith("/")], assets
    assert "//" not in "".join(assets)
    for asset in assets:
        got = client.get(asset)
        assert got.status_code == 200, asset
        assert b"".join(got.streaming_content if got.streaming else [got.content]), asset
    assert '"validatorUrl": null' in html
    assert '"url": "/api/v1/openapi.json"' in html
