"""Contacts through the API: list, read, update, merge and undo a merge."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adesso.contacts.models import Contact, ContactIdentity
from adesso.conversations.models import Conversation, ConversationEvent
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db


def contact_of(api, conversation_code):
    return api.get(f"/conversations/{conversation_code}").json()["contact"]["code"]


def test_list_and_find_by_name_email_or_phone_however_typed():
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    mario = contact_of(
        api,
        customer_writes(
            ch,
            sender_id="a",
            sender={
                "name": "Mario Bianchi",
                "email": "mario@example.com",
                "phone": "+39 333 1234567",
            },
        )["conversation"],
    )
    lucia = contact_of(
        api,
        customer_writes(
            ch,
            sender_id="b",
            sender={
                "name": "Lucia Verdi",
                "email": "lucia@example.org",
            },
        )["conversation"],
    )

    everyone = api.get("/contacts").json()
    by = {
        q: [c["code"] for c in api.get("/contacts", q=q).json()["items"]]
        for q in ("bianchi", "LUCIA@", "example", "333 123 4567", "+39 333-1234567", "nessuno")
    }

    assert everyone["count"] == 2
    assert {c["code"] for c in everyone["items"]} == {mario, lucia}
    assert by == {
        "bianchi": [mario],
        "LUCIA@": [lucia],
        "example": [lucia, mario],
        "333 123 4567": [mario],
        "+39 333-1234567": [mario],
        "nessuno": [],
    }
    page = api.get("/contacts", limit=1, offset=1).json()
    assert page["count"] == 2
    assert [c["code"] for c in page["items"]] == [mario]


def test_get_one_with_identities_conversations_and_merge_suggestions():
    org = make_org()
    api = AgentApi(make_agent(org))
    web, app = make_api_channel(org, "Sito web"), make_api_channel(org, "App")
    on_web = customer_writes(web, sender_id="w-1", sender={"email": "mario@example.com"})
    on_app = customer_writes(app, sender_id="p-1", sender={"phone": "3331234567"})
    by_email, by_phone = contact_of(api, on_web["conversation"]), contact_of(api, on_app["conversation"])
    # An agent learns the phone of the customer known by email: the phone
    # belongs to another contact, so the two become a merge suggestion.
    assert api.patch(f"/contacts/{by_email}", {"phone": "+39 333 123 4567"}).status_code == 200

    body = api.get(f"/contacts/{by_email}").json()
    other = api.get(f"/contacts/{by_phone}").json()

    assert body["email"] == "mario@example.com"
    assert body["phone"] == "+393331234567"
    assert sorted((i["kind"], i["value"]) for i in body["identities"]) == [
        ("api", f"{web.channel.code}/w-1"),
        ("email", "mario@example.com"),
    ]
    assert [c["code"] for c in body["conversations"]] == [on_web["conversation"]]
    assert [s["code"] for s in body["merge_suggestions"]] == [by_phone]
    assert [s["code"] for s in other["merge_suggestions"]] == [by_email]
    assert body["merges"] == []
    assert body["merged_into"] is None


def test_shared_email_is_a_merge_suggestion():
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    first = contact_of(api, customer_writes(ch, sender_id="a", sender={"email": "m@example.com"})["conversation"])
    second = contact_of(api, customer_writes(ch, sender_id="b")["conversation"])

    api.patch(f"/contacts/{second}", {"email": "M@Example.com"})

    assert [s["code"] for s in api.get(f"/contacts/{second}").json()["merge_suggestions"]] == [first]
    assert [s["code"] for s in api.get(f"/contacts/{first}").json()["merge_suggestions"]] == [second]


def test_update_normalises_and_claims_free_addresses():
    org = make_org()
    api = AgentApi(make_agent(org))
    code = contact_of(api, customer_writes(make_api_channel(org))["conversation"])

    r = api.patch(
        f"/contacts/{code}",
        {
            "name": "Mario Rossi",
            "email": " Mario@Example.COM ",
            "phone": "0039 333 7654321",
            "tier": "vip",
            "language": "it",
            "notes": "Preferisce il telefono",
        },
    )

    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["name"], body["email"], body["phone"], body["tier"], body["language"], body["notes"]) == (
        "Mario Rossi",
        "mario@example.com",
        "+393337654321",
        "vip",
        "it",
        "Preferisce il telefono",
    )
    assert {(i["kind"], i["value"]) for i in body["identities"]} >= {
        ("email", "mario@example.com"),
        ("phone", "+393337654321"),
    }


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"email": "not-an-email"}, 400, "invalid_email"),
        ({"name": "Nuovo nome", "phone": "12"}, 400, "invalid_phone"),
        ({"tier": "gold"}, 400, "invalid_tier"),
        ({"name": "x" * 201}, 422, "invalid"),
        ({"notes": 42}, 422, "invalid"),
        ({"name": "Mario\x00"}, 400, "invalid_text"),
    ],
)
def test_bad_update_changes_nothing(changes, status, error):
    org = make_org()
    api = AgentApi(make_agent(org))
    code = contact_of(api, customer_writes(make_api_channel(org))["conversation"])
    before = Contact.objects.values().get(code=code)

    r = api.patch(f"/contacts/{code}", changes)

    assert r.status_code == status, r.content
    assert r.json()["error"] == error
    assert r.json()["message"]
    assert Contact.objects.values().get(code=code) == before
    assert ContactIdentity.objects.count() == 1


def test_merge_moves_everything_and_undo_restores_everything():
    org = make_org()
    api = AgentApi(make_agent(org))
    web, app = make_api_channel(org, "Sito web"), make_api_channel(org, "App")
    on_web = customer_writes(web, sender_id="w-1", sender={"name": "", "email": "mario@example.com"})
    on_app = customer_writes(app, sender_id="p-1", sender={"name": "Mario B.", "phone": "3331234567"})
    target, source = contact_of(api, on_web["conversation"]), contact_of(api, on_app["conversation"])
    source_identities = {(i["kind"], i["value"]) for i in api.get(f"/contacts/{source}").json()["identities"]}
    before = {c.code: c for c in Contact.objects.all()}

    r = api.post(f"/contacts/{source}/merge", {"into": target})

    assert r.status_code == 200, r.content
    merge_id = r.json()["merge"]
    merged = r.json()["contact"]
    assert merged["code"] == target
    assert (merged["name"], merged["email"], merged["phone"]) == (
        "Mario B.",
        "mario@example.com",
        "+393331234567",
    )
    assert source_identities <= {(i["kind"], i["value"]) for i in merged["identities"]}
    assert {c["code"] for c in merged["conversations"]} == {on_web["conversation"], on_app["conversation"]}
    assert [m["source"] for m in merged["merges"]] == [source]
    assert api.get(f"/contacts/{source}").json()["merged_into"] == target
    assert source not in [c["code"] for c in api.get("/contacts").json()["items"]]
    assert ConversationEvent.objects.get(kind="contact_merged").data == {
        "source": source,
        "target": target,
        "merge": merge_id,
    }
    # While merged, the customer writing from the app joins the merged contact.
    customer_writes(app, "Ancora io", sender_id="p-1")
    assert Conversation.objects.get(code=on_app["conversation"]).contact.code == target

    undone = api.post(f"/contacts/merges/{merge_id}/undo")

    assert undone.status_code == 200, undone.content
    assert undone.json()["code"] == source
    assert undone.json()["merged_into"] is None
    assert {(i["kind"], i["value"]) for i in undone.json()["identities"]} == source_identities
    assert [c["code"] for c in undone.json()["conversations"]] == [on_app["conversation"]]
    after = {c.code: c for c in Contact.objects.all()}
    for code in (source, target):
        for field in ("name", "email", "phone", "language", "tier", "merged_into_id"):
            assert getattr(after[code], field) == getattr(before[code], field), (code, field)
    restored = api.get(f"/contacts/{target}").json()
    assert [c["code"] for c in restored["conversations"]] == [on_web["conversation"]]
    assert restored["merges"][0]["undone_at"] is not None
    assert ConversationEvent.objects.filter(kind="contact_unmerged").count() == 1

    again = api.post(f"/contacts/merges/{merge_id}/undo")

    assert again.status_code == 409
    assert again.json()["error"] == "already_undone"


def test_merge_refusals():
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    a = contact_of(api, customer_writes(ch, sender_id="a")["conversation"])
    b = contact_of(api, customer_writes(ch, sender_id="b")["conversation"])
    c = contact_of(api, customer_writes(ch, sender_id="c")["conversation"])

    itself = api.post(f"/contacts/{a}/merge", {"into": a})
    unknown = api.post(f"/contacts/{a}/merge", {"into": "nosuchcontact"})
    missing = api.post(f"/contacts/{a}/merge", {})
    api.post(f"/contacts/{a}/merge", {"into": b})
    twice = api.post(f"/contacts/{a}/merge", {"into": c})
    into_merged = api.post(f"/contacts/{c}/merge", {"into": a})

    assert (itself.status_code, itself.json()["error"]) == (400, "same_contact")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    assert (missing.status_code, missing.json()["error"]) == (422, "invalid")
    assert (twice.status_code, twice.json()["error"]) == (409, "already_merged")
    assert (into_merged.status_code, into_merged.json()["error"]) == (409, "already_merged")
    assert api.post("/contacts/merges/999999/undo").status_code == 404


def test_undo_in_reverse_order_of_chained_merges():
    org = make_org()
    api = AgentApi(make_agent(org))
    ch = make_api_channel(org)
    a, b, c = (contact_of(api, customer_writes(ch, sender_id=s)["conversation"]) for s in "abc")
    first = api.post(f"/contacts/{a}/merge", {"into": b}).json()["merge"]
    second = api.post(f"/contacts/{b}/merge", {"into": c}).json()["merge"]

    early = api.post(f"/contacts/merges/{first}/undo")

    assert early.status_code == 409
    assert early.json()["error"] == "already_merged"
    assert api.post(f"/contacts/merges/{second}/undo").status_code == 200
    assert api.post(f"/contacts/merges/{first}/undo").status_code == 200
    for code in (a, b, c):
        contact = api.get(f"/contacts/{code}").json()
        assert contact["merged_into"] is None
        assert len(contact["conversations"]) == 1
        assert len(contact["identities"]) == 1


def _contacts_of(size: int) -> tuple[AgentApi, str]:
    """`size` contacts sharing an email (so the first has size - 1 merge suggestions),
    and `size` more merged into the first."""
    org = make_org()
    api = AgentApi(make_agent(org))
    web, app = make_api_channel(org, "Sito web"), make_api_channel(org, "App")
    codes = [contact_of(api, customer_writes(web, sender_id=f"w{i}")["conversation"]) for i in range(size)]
    for code in codes:
        api.patch(f"/contacts/{code}", {"email": "mario@example.com"})
    for i in range(size):
        other = contact_of(api, customer_writes(app, sender_id=f"p{i}")["conversation"])
        assert api.post(f"/contacts/{other}/merge", {"into": codes[0]}).status_code == 200
    return api, codes[0]


def test_query_count_does_not_grow_with_the_page_or_the_contact(django_assert_num_queries):
    small, small_code = _contacts_of(2)
    big, big_code = _contacts_of(20)
    with CaptureQueriesContext(connection) as listing:
        assert small.get("/contacts", q="example").status_code == 200
    with CaptureQueriesContext(connection) as reading:
        assert small.get(f"/contacts/{small_code}").status_code == 200

    with django_assert_num_queries(len(listing)):
        many = big.get("/contacts", q="example")
    with django_assert_num_queries(len(reading)):
        one = big.get(f"/contacts/{big_code}")

    assert many.json()["count"] == 20
    body = one.json()
    assert len(body["merge_suggestions"]) == 19
    assert len(body["merges"]) == 20
    assert len(body["conversations"]) == 21
    assert len(body["identities"]) == 22
