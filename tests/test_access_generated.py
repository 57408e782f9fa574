"""Roles in one place, checked everywhere: one test generated from the URL configuration
and the OpenAPI document, so that a new view or endpoint is covered the day it is added.

Alice, admin of Pasticceria Rossi, aims every Django URL pattern (front pages, channel
pages and webhooks) and every API operation at the objects of Ferramenta Neri, whose
customer Zeno Zanzibar wrote about his "zanzibar" order. Each must refuse (403 or 404,
never a 2xx or a redirect for a page naming another organisation's object, never a 5xx),
show nothing of Neri and change nothing of it. Then Giulia, an agent of Rossi, calls
every view and endpoint that declares a role (`for_role` in adesso/accounts/access.py:
`x-adesso-role` in the document) on Rossi's own objects: 403.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from adesso.accounts.access import ROLE_ATTRIBUTE
from tests.api_world import World, build_world

pytestmark = pytest.mark.django_db

SECRETS = ("zanzibar", "Zeno", "zeno@example.com")
REFUSED = {403, 404}
# Path parameters that name no organisation's object (the automatic messages' slots).
NOT_OBJECTS = {"purpose", "language"}
# Required query words: the search looks for the other organisation's secret.
QUERY_WORDS = {"q": "zanzibar"}
# Names a path segment gives the parameter after it, beyond the API's (tests/api_world.py).
FRONT_SEGMENTS = {"c": "conversations", "team": "agents", "message": "messages", "mail": "mails"}
# Body fields that name an object: filled with the other organisation's.
BODY_CODES = {
    "codes": ("conversations", True),
    "conversation": ("conversations", False),
    "assignee": ("agents", False),
    "team": ("teams", False),
    "into": ("contacts", False),
    "members": ("agents", True),
    "supervisors": ("agents", True),
}


@pytest.fixture
def worlds(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    rossi = build_world("Pasticceria Rossi")
    neri = build_world("Ferramenta Neri", customer="Zeno Zanzibar", word="zanzibar")
    return rossi, neri


def snapshot(world: World) -> dict[str, list[dict[str, Any]]]:
    """Every row of every model that belongs to the organisation."""
    rows = {}
    for model in apps.get_models():
        if any(f.name == "organization" for f in model._meta.get_fields()):
            rows[model._meta.label] = list(model.objects.filter(organization=world.org).order_by("pk").values())
    return rows


def leaks(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace")
    return [s for s in SECRETS if s.lower() in text.lower()]


# -- the OpenAPI document ----------------------------------------------------------------


def _pointer(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _example(spec: dict[str, Any], schema: dict[str, Any], name: str = "") -> Any:
    """A small value valid for `schema` (required properties only)."""
    if "$ref" in schema:
        return _example(spec, _pointer(spec, schema["$ref"]), name)
    if "anyOf" in schema:
        return _example(spec, next(s for s in schema["anyOf"] if s.get("type") != "null"), name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: _example(spec, props[key], key) for key in schema.get("required", [])}
    if kind == "array":
        return [_example(spec, schema.get("items", {}), name)] * max(1, schema.get("minItems", 0))
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return schema.get("minimum", 1) or 1
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    return {"email": "nuovo@example.com", "kind": "api", "tag": "urgente", "status": "resolved"}.get(name, "prova")


def _body(spec: dict[str, Any], operation: dict[str, Any], codes: World) -> str | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    body = _example(spec, content["schema"])
    schema = content["schema"]
    schema = _pointer(spec, schema["$ref"]) if "$ref" in schema else schema
    for field, (segment, many) in BODY_CODES.items():
        if field in schema.get("properties", {}) and segment in codes.codes:
            body[field] = [codes.codes[segment]] if many else codes.codes[segment]
    if "action" in body:  # bulk: an action that needs nothing more
        body["action"] = "resolve"
    return json.dumps(body)


def _fill(path: str, world: World, operation: dict[str, Any]) -> str:
    """The path with the world's codes, and the operation's required query parameters."""
    url = re.sub(r"\{(\w+)\}", lambda m: world.value_for(path, m.group(1)) or "zz00000000", path)
    query = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter.get("required"):
            name = parameter["name"]
            segment = BODY_CODES.get(name, ("", False))[0]
            query[name] = world.codes.get(segment) or QUERY_WORDS.get(name, "prova")
    return url + ("?" + urlencode(query) if query else "")


def _names_an_object(path: str) -> bool:
    return any(name not in NOT_OBJECTS for name in re.findall(r"\{(\w+)\}", path))


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in spec["paths"].items() for method, op in item.items()]


def _call(client: Client, method: str, url: str, body: str | None, token: str) -> Any:
    return client.generic(method.upper(), url, body or "", content_type="application/json",
                          headers={"Authorization": f"Bearer {token}"})


def test_every_api_operation_refuses_another_organisations_objects(worlds):
    rossi, neri = worlds
    spec = Client().get("/api/v1/openapi.json").json()
    before = snapshot(neri)
    alice = rossi.alice.headers["Authorization"].removeprefix("Bearer ")

    holes = []
    for method, path, operation in _operations(spec):
        token = rossi.channel.token if {"ChannelToken": []} in operation.get("security", []) else alice
        r = _call(Client(), method, _fill(path, neri, operation), _body(spec, operation, neri), token)
        named = _names_an_object(path)
        if r.status_code >= 500 or leaks(r.content) or (named and r.status_code not in REFUSED | {401}):
            holes.append((method, path, r.status_code, leaks(r.content)))
        if r.status_code == 422:
            holes.append((method, path, "422: the generated body is not valid, access untested", r.content[:200]))

    assert len(_operations(spec)) >= 60
    assert holes == [], "\n".join(map(str, holes))
    assert snapshot(neri) == before


def test_every_operation_that_declares_a_role_refuses_an_agent(worlds):
    rossi, _ = worlds
    spec = Client().get("/api/v1/openapi.json").json()
    giulia = rossi.giulia.headers["Authorization"].removeprefix("Bearer ")
    before = snapshot(rossi)

    declared = [(m, p, op) for m, p, op in _operations(spec) if op.get("x-adesso-role")]
    answers = {
        (m, p): _call(Client(), m, _fill(p, rossi, op), _body(spec, op, rossi), giulia).status_code
        for m, p, op in declared
    }

    assert len(declared) >= 20
    assert {op: status for op, status in answers.items() if status != 403} == {}
    assert snapshot(rossi) == before


# -- the URL configuration ---------------------------------------------------------------


def _patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, Any]]:
    """(route, view) of every Django URL pattern, included ones too; the API's own
    patterns are left to the OpenAPI walk above (same views, documented paths)."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith("api/v1/"):
            continue
        if isinstance(entry, URLResolver):
            found.extend(_patterns(entry, route))
        elif isinstance(entry, URLPattern):
            found.append((route, entry.callback))
    return found


def _fill_route(route: str, world: World) -> str:
    def value(match: re.Match[str]) -> str:
        before = route[: match.start()].rstrip("/").split("/")[-1]
        segment = FRONT_SEGMENTS.get(before, before)
        if match.group(2) == "channel_code":
            segment = "channels"
        return world.codes.get(segment) or ("1" if match.group(1) == "int" else "zz00000000")

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def test_every_page_refuses_another_organisations_objects(worlds):
    rossi, neri = worlds
    client = Client()
    before = snapshot(neri)

    routes = _patterns()
    holes = []
    for route, _view in routes:
        url = _fill_route(route, neri)
        for method in ("get", "post"):
            client.force_login(rossi.alice.agent)  # again: one of the pages is the logout
            r = client.generic(method.upper(), url)
            named = "<" in route
            if r.status_code >= 500 or leaks(r.content) or (named and 200 <= r.status_code < 400):
                holes.append((method, route, url, r.status_code, leaks(r.content)))

    assert len(routes) >= 60
    assert holes == [], "\n".join(map(str, holes))
    assert snapshot(neri) == before


def test_every_page_that_declares_a_role_refuses_an_agent(worlds):
    rossi, _ = worlds
    client = Client()
    client.force_login(rossi.giulia.agent)  # none of these pages logs out
    before = snapshot(rossi)

    declared = [(route, view) for route, view in _patterns() if getattr(view, ROLE_ATTRIBUTE, None)]
    answers = {}
    for route, _view in declared:
        url = _fill_route(route, rossi)
        answers[route] = {client.get(url).status_code, client.post(url).status_code} - {405}

    assert len(declared) >= 8
    assert {route: s for route, s in answers.items() if s != {403}} == {}
    assert snapshot(rossi) == before
