"""Bad input on the agent API: a clear 4xx JSON error, nothing half-stored, never a 500."""

import json

import pytest

from adesso.accounts.models import Role
from adesso.channels.models import Channel
from adesso.contacts.models import Contact, ContactMerge
from adesso.conversations.models import Conversation, ConversationEvent, Message
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/conversations/{conversation}/messages"),
    ("post", "/conversations/{conversation}/assign"),
    ("post", "/conversations/{conversation}/status"),
    ("post", "/conversations/{conversation}/snooze"),
    ("post", "/conversations/{conversation}/priority"),
    ("patch", "/contacts/{contact}"),
    ("post", "/contacts/{contact}/merge"),
    ("post", "/channels"),
]

BAD_BODIES = [
    (b"{not json", 400, "invalid_json"),
    (b'{"text": "\xff\xfe", "name": "\xc3"}', 400, "invalid_utf8"),
    (b"[1, 2]", 400, "invalid_json"),
    (b'"text"', 400, "invalid_json"),
    (b"null", 400, "invalid_json"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json"),
    (
        json.dumps(
            {
                "text": "a\u0000b",
                "name": "a\u0000b",
                "note": "a\u0000b",
                "status": "open",
                "into": "a\u0000b",
                "kind": "api",
                "until": "x",
                "priority": 1,
            }
        ).encode(),
        400,
        "invalid_text",
    ),
    (json.dumps({"text": "a\ud800b", "name": "a\ud800b", "config": {"\ud800": 1}}).encode(), 400, "invalid_text"),
    (json.dumps({"nested": {"deeper": ["fine", "a\u0000"]}}).encode(), 400, "invalid_text"),
]


def world():
    org = make_org()
    api = AgentApi(make_agent(org, "Anna", role=Role.ADMIN))
    ch = make_api_channel(org)
    first = customer_writes(ch, sender_id="a")["conversation"]
    customer_writes(ch, sender_id="b")
    contact = api.get(f"/conversations/{first}").json()["contact"]["code"]
    return api, {"conversation": first, "contact": contact}


def snapshot():
    return (
        list(Conversation.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        ContactMerge.objects.count(),
        Message.objects.count(),
        ConversationEvent.objects.count(),
        Channel.objects.count(),
    )


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(("body", "status", "error"), BAD_BODIES)
def test_unreadable_body_is_a_clear_400_and_stores_nothing(method, path, body, status, error):
    api, codes = world()
    before = snapshot()

    r = api.send(method, path.format(**codes), body)

    assert r.status_code == status, r.content
    assert r.json()["error"] == error
    assert r.json()["message"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/conversations/{conversation}/messages", {}, "text"),
        ("post", "/conversations/{conversation}/messages", {"text": 12}, "text"),
        ("post", "/conversations/{conversation}/messages", {"text": "x" * 100_001}, "text"),
        ("post", "/conversations/{conversation}/assign", {"assignee": ["a"]}, "assignee"),
        ("post", "/conversations/{conversation}/assign", {"note": "x" * 5001}, "note"),
        ("post", "/conversations/{conversation}/status", {"status": 1}, "status"),
        ("post", "/conversations/{conversation}/status", {"status": "resolved", "reason": "x" * 2001}, "reason"),
        ("post", "/conversations/{conversation}/snooze", {}, "until"),
        ("post", "/conversations/{conversation}/snooze", {"until": 1e30}, "until"),
        ("post", "/conversations/{conversation}/priority", {"priority": "3; drop"}, "priority"),
        ("post", "/conversations/{conversation}/priority", {"priority": 10**40}, "priority"),
        ("patch", "/contacts/{contact}", {"email": 5}, "email"),
        ("patch", "/contacts/{contact}", {"notes": "x" * 10_001}, "notes"),
        ("post", "/contacts/{contact}/merge", {"into": None}, "into"),
        ("post", "/contacts/{contact}/merge", {"into": "x" * 65}, "into"),
        ("post", "/channels", {"kind": ["api"], "name": "x"}, "kind"),
        ("post", "/channels", {"kind": "api", "name": "x", "config": []}, "config"),
    ],
)
def test_missing_wrong_or_oversized_field_names_the_field(method, path, body, field):
    api, codes = world()
    before = snapshot()

    r = api.send(method, path.format(**codes), json.dumps(body))

    assert r.status_code == 422, r.content
    assert r.json()["error"] == "invalid"
    assert field in r.json()["message"]
    assert [d["field"] for d in r.json()["details"]] == [field]
    assert snapshot() == before


@pytest.mark.parametrize(
    "path",
    [
        "/conversations/%00",
        "/conversations/a%00b/messages",
        "/contacts/" + "x" * 65,
        "/contacts/a.b",
        "/conversations/%C3%A8",
        "/contacts/merges/notanumber/undo",
        "/contacts/merges/99999999999999999999999/undo",
    ],
)
def test_garbage_in_the_path_is_a_4xx(path):
    api, _ = world()
    before = snapshot()

    r = api.send("post" if path.endswith(("messages", "undo")) else "get", path, "{}")

    assert r.status_code in (404, 422), r.content
    assert r.json()["error"] in ("not_found", "invalid")
    assert snapshot() == before


def test_oversized_body_is_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    api, codes = world()
    before = snapshot()

    r = api.post(f"/conversations/{codes['conversation']}/messages", {"text": "x" * 20_000})

    assert r.status_code == 413, r.content
    assert r.json()["error"] == "too_large"
    assert snapshot() == before


def test_form_encoded_body_is_not_json():
    api, codes = world()

    r = api.send(
        "post",
        f"/conversations/{codes['conversation']}/messages",
        "text=ciao",
        content_type="application/x-www-form-urlencoded",
    )

    assert r.status_code == 400
    assert r.json()["error"] == "invalid_json"
    assert Message.objects.count() == 2


def test_unknown_route_and_method():
    api, codes = world()

    unknown = api.get("/nothing-here")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "not_found", "message": "No such endpoint"}
    r = api.send("delete", f"/conversations/{codes['conversation']}")
    assert r.status_code == 405
    assert Conversation.objects.filter(code=codes["conversation"]).exists()
