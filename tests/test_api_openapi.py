"""The API describes itself: /api/v1/openapi.json and the browsable /api/v1/docs, offline."""

import json
import re

import pytest
from django.test import Client
from openapi_spec_validator import validate

from tests.builders import AgentApi, make_agent, make_org

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
    # At least these: the generated tests below check every operation, whoever adds it.
    assert operations >= AGENT_ENDPOINTS | {INBOUND, INBOUND_EVENT}
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

def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def pointer(spec, ref):
    assert ref.startswith("#/"), ref
    node = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def _resolves(spec, ref):
    try:
        pointer(spec, ref)
    except (KeyError, AssertionError):
        return False
    return True


def test_the_document_is_self_contained():
    spec = openapi()

    dangling = sorted({ref for ref in refs(spec) if not _resolves(spec, ref)})

    assert dangling == []
    assert "$defs" not in json.dumps(spec)
    inbound = spec["paths"][INBOUND[1]][INBOUND[0]]["requestBody"]["content"]["application/json"]["schema"]
    assert "#/components/schemas/InboundSenderIn" in json.dumps(inbound)
    assert pointer(spec, "#/components/schemas/InboundSenderIn")["type"] == "object"


def _filled(path):
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_agent_operation_answers_a_documented_401_without_a_token():
    spec = openapi()
    client = Client()

    answers = {}
    for method, path, operation in operations(spec):
        if {"AgentToken": []} in operation.get("security", []):
            r = client.generic(method.upper(), _filled(path), "{}", content_type="application/json")
            answers[(method, path)] = (r.status_code, "401" in operation["responses"])

    assert len(answers) >= len(AGENT_ENDPOINTS)
    assert {op: a for op, a in answers.items() if a != (401, True)} == {}


def test_every_operation_with_input_documents_422_and_every_path_404():
    spec = openapi()

    missing = []
    for method, path, operation in operations(spec):
        statuses = set(operation["responses"])
        where = {p["in"] for p in operation.get("parameters", [])}
        if (where or "requestBody" in operation) and "422" not in statuses:
            missing.append((method, path, "422"))
        if "path" in where and "404" not in statuses:
            missing.append((method, path, "404"))
        if "requestBody" in operation and not {"400", "413"} <= statuses:
            missing.append((method, path, "400/413"))

    assert missing == []


# What lax parsing would turn into the documented type: each must be refused.
LAX = {"integer": [False, True, "2", 2.5], "number": [True, "1.5"], "boolean": [0, 1, "true", "1"]}


def _typed_properties(spec, schema):
    """(name, JSON type) of a body's top-level properties documented as a number or a boolean."""
    schema = pointer(spec, schema["$ref"]) if "$ref" in schema else schema
    for name, prop in schema.get("properties", {}).items():
        types = {v.get("type") for v in prop.get("anyOf", [prop])} - {None, "null"}
        if len(types) == 1 and types <= set(LAX):
            yield name, types.pop()


def test_no_body_field_takes_a_value_of_another_json_type():
    """`{"capacity": false}`, `{"confirmed": 0}`, `{"priority": "2"}` and their like, sent
    to every number and boolean field of every agent operation's request body: 422."""
    spec = openapi()
    alice = AgentApi(make_agent(make_org(), "Alice", role="admin"))

    accepted, tried = [], []
    for method, path, operation in operations(spec):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None or {"AgentToken": []} not in operation.get("security", []):
            continue
        for name, kind in _typed_properties(spec, body["schema"]):
            for value in LAX[kind]:
                tried.append((path, name))
                r = alice.send(method, _filled(path).removeprefix("/api/v1"), json.dumps({name: value}))
                fields = [d["field"] for d in r.json().get("details", [])] if r.status_code == 422 else []
                if name not in fields:
                    accepted.append((method, path, name, value, r.status_code))

    assert {
        ("/api/v1/agents/{code}", "capacity"),
        ("/api/v1/conversations/{code}/priority", "priority"),
        ("/api/v1/conversations/{code}/messages", "confirmed"),
    } <= set(tried)
    assert accepted == []


def test_the_csv_report_is_documented_as_csv():
    spec = openapi()
    alice = AgentApi(make_agent(make_org(), "Alice", role="admin"))

    content = spec["paths"]["/api/v1/reports"]["get"]["responses"]["200"]["content"]
    r = alice.get("/reports", format="csv")

    assert set(content) == {"application/json", "text/csv"}
    assert r.status_code == 200
    assert r["Content-Type"].split(";")[0] == "text/csv"
