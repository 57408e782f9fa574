"""Canned replies: personal and shared, Italian and English, plain placeholders; the API
(/api/v1/canned-replies), the settings page and the list the reply box shows."""

import pytest
from django.test import Client

from adesso.canned.actions import do_delete, do_save
from adesso.canned.models import CannedReply
from adesso.canned.texts import Filling, fill
from adesso.conversations.models import Conversation
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db

THANKS = "Ciao {contact_first_name}, sono {agent_name}: il rimborso per {conversation_code} è partito oggi."


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


def test_placeholders_are_plain_substitution_never_a_template():
    filling = Filling(contact_first_name="Mario", agent_name="Giulia", conversation_code="abc123")
    assert fill(THANKS, filling) == "Ciao Mario, sono Giulia: il rimborso per abc123 è partito oggi."
    # Template syntax is text like any other, and an unknown name stays as written.
    assert fill("{{ settings.SECRET_KEY }} {% debug %} {contact.name} {x}", filling) == (
        "{{ settings.SECRET_KEY }} {% debug %} {contact.name} {x}"
    )
    # No name known: no stray space before the comma.
    assert fill("Ciao {contact_first_name}, grazie", Filling("", "Giulia", "c")) == "Ciao, grazie"


def test_anyone_keeps_personal_replies_shared_ones_take_a_supervisor():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    sara = AgentApi(make_agent(org, "Sara", role="supervisor"))
    reply = {"shortcut": "/Rimborso", "title": "Rimborso partito", "language": "it", "body": THANKS}

    r = giulia.post("/canned-replies", reply)
    assert r.status_code == 201, r.content
    mine = r.json()
    assert (mine["shortcut"], mine["shared"], mine["may_change"]) == ("rimborso", False, True)
    r = giulia.post("/canned-replies", {**reply, "shared": True})
    assert r.status_code == 403
    assert giulia.post("/canned-replies", reply).json()["error"] == "already_exists"

    shared = sara.post(
        "/canned-replies",
        {**reply, "shared": True, "language": "en", "body": "Hi {contact_first_name}, your refund is on its way."},
    ).json()
    assert shared["shared"] is True
    # Giulia sees both and may change only hers; Sara does not see Giulia's.
    listed = giulia.get("/canned-replies").json()
    assert [(i["code"], i["may_change"]) for i in listed["items"]] == [(shared["code"], False), (mine["code"], True)]
    assert [i["code"] for i in sara.get("/canned-replies").json()["items"]] == [shared["code"]]
    assert [i["code"] for i in giulia.get("/canned-replies", language="en").json()["items"]] == [shared["code"]]
    assert [i["code"] for i in giulia.get("/canned-replies", q="way").json()["items"]] == [shared["code"]]

    assert giulia.send("put", f"/canned-replies/{shared['code']}", _json({**reply, "shared": True})).status_code == 403
    assert giulia.send("delete", f"/canned-replies/{shared['code']}").status_code == 403
    assert sara.send("delete", f"/canned-replies/{mine['code']}").status_code == 404
    r = giulia.send("put", f"/canned-replies/{mine['code']}", _json({**reply, "title": "Rimborso"}))
    assert r.status_code == 200 and r.json()["title"] == "Rimborso"
    assert giulia.send("delete", f"/canned-replies/{mine['code']}").status_code == 204
    assert not CannedReply.objects.filter(code=mine["code"]).exists()


def _json(data):
    import json

    return json.dumps(data)


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"shortcut": "a b", "language": "it", "body": "x"}, 400, "invalid_shortcut"),
        ({"shortcut": "ok", "language": "de", "body": "x"}, 422, "invalid"),
        ({"shortcut": "ok", "language": "it", "body": "Ciao {nome}"}, 400, "invalid_placeholder"),
        ({"shortcut": "ok", "language": "it", "body": "   "}, 400, "empty"),
        ({"shortcut": "ok", "language": "it"}, 422, "invalid"),
    ],
)
def test_bad_canned_replies_are_4xx(body, status, error):
    api = AgentApi(make_agent(make_org(), "Giulia"))
    r = api.post("/canned-replies", body)
    assert r.status_code == status, r.content
    assert r.json()["error"] == error


def test_render_fills_in_the_conversation_and_stays_in_the_organisation():
    ours, theirs = make_org(), make_org("Ferramenta Verdi")
    giulia = make_agent(ours, "Giulia Neri")
    ch = make_api_channel(ours)
    code = customer_writes(ch, sender={"name": "Mario Bianchi"})["conversation"]
    canned = do_save(giulia, None, shortcut="rimborso", title="Rimborso", language="it", body=THANKS, shared=False)
    api = AgentApi(giulia)

    r = api.get(f"/canned-replies/{canned.code}/render", conversation=code)
    assert r.status_code == 200, r.content
    assert r.json()["text"] == f"Ciao Mario, sono Giulia Neri: il rimborso per {code} è partito oggi."

    their_code = customer_writes(make_api_channel(theirs))["conversation"]
    luca = AgentApi(make_agent(theirs, "Luca"))
    assert api.get(f"/canned-replies/{canned.code}/render", conversation=their_code).status_code == 404
    assert luca.get(f"/canned-replies/{canned.code}/render", conversation=their_code).status_code == 404
    assert luca.get("/canned-replies").json()["count"] == 0


def test_reply_box_list_is_filled_in_and_in_the_conversations_language_first():
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    sara = make_agent(org, "Sara", role="admin")
    code = customer_writes(
        make_api_channel(org), "Buongiorno, dov'è il mio rimborso?", sender={"name": "Mario Bianchi"}
    )["conversation"]
    do_save(
        sara,
        None,
        shortcut="rimborso",
        title="Refund",
        language="en",
        body="Hi {contact_first_name}, the refund left today.",
        shared=True,
    )
    do_save(giulia, None, shortcut="rimborso", title="Rimborso", language="it", body=THANKS, shared=False)
    Conversation.objects.filter(code=code).update(language="it")

    data = logged_in(giulia).get(f"/c/{code}/canned").json()
    assert data["language"] == "it"
    assert [(i["language"], i["shared"], i["text"]) for i in data["items"]] == [
        ("it", False, f"Ciao Mario, sono Giulia: il rimborso per {code} è partito oggi."),
        ("en", True, "Hi Mario, the refund left today."),
    ]
    page = logged_in(giulia).get(f"/c/{code}/").content.decode()
    assert f'data-canned-url="/c/{code}/canned"' in page
    assert 'id="canned-list" role="listbox"' in page


def test_settings_page_creates_edits_and_deletes_in_both_languages():
    org = make_org()
    giulia = make_agent(org, "Giulia", language="it")
    client = logged_in(giulia)

    page = client.get("/settings/canned").content.decode()
    assert "Risposte pronte" in page and "{contact_first_name}" in page
    assert "Condivisa con tutti" not in page  # agents write personal ones only
    r = client.post(
        "/settings/canned",
        {
            "shortcut": "grazie",
            "title": "Grazie",
            "language": "it",
            "body": "Grazie {contact_first_name}!",
            "shared": "1",
        },
    )
    assert r.status_code == 302
    canned = CannedReply.objects.get(shortcut="grazie")
    assert canned.owner == giulia  # "shared" from an agent is ignored
    r = client.post(
        "/settings/canned",
        {"code": canned.code, "shortcut": "grazie", "title": "Grazie!", "language": "it", "body": "Ciao {nome}"},
    )
    assert r.status_code == 400
    assert "Segnaposto sconosciuto {nome}" in r.content.decode()
    client.post("/settings/canned", {"code": canned.code, "delete": "1"})
    assert not CannedReply.objects.exists()

    sara = make_agent(org, "Sara", role="supervisor", language="en")
    supervisor = logged_in(sara)
    assert "Shared with everyone" in supervisor.get("/settings/canned").content.decode()
    supervisor.post(
        "/settings/canned",
        {
            "shortcut": "thanks",
            "title": "Thanks",
            "language": "en",
            "body": "Thanks {contact_first_name}!",
            "shared": "1",
        },
    )
    shared = CannedReply.objects.get(shortcut="thanks")
    assert shared.owner is None
    assert client.post("/settings/canned", {"code": shared.code, "delete": "1"}).status_code == 403
    with pytest.raises(Exception, match="cannot delete"):
        do_delete(giulia, shared)
    assert CannedReply.objects.filter(pk=shared.pk).exists()


def test_the_demo_has_shared_replies_in_both_languages_and_tagged_conversations():
    from adesso.canned.demo import seed_workspace

    org = make_org()
    admin = make_agent(org, "Anna", role="admin")
    ch = make_api_channel(org)
    conversations = [
        Conversation.objects.get(code=customer_writes(ch, sender_id=f"c{n}")["conversation"]) for n in range(2)
    ]

    seed_workspace(admin, conversations)

    replies = CannedReply.objects.filter(organization=org, owner__isnull=True)
    assert {r.language for r in replies} == {"it", "en"}
    assert [Conversation.objects.get(pk=c.pk).tag_names for c in conversations] == [["ordine"], ["ordine"]]
