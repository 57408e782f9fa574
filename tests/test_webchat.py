"""The web chat kind (issue 11): connecting it, the visitor's REST endpoints and every
refusal (a forged identity, a foreign origin, a flood: nothing stored)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from adesso.channels.models import Channel, InboundEvent
from adesso.channels.webchat.adapter import identifier_hash
from adesso.contacts.models import ContactIdentity
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation, Message
from tests.builders import AgentApi, make_agent, make_org

pytestmark = pytest.mark.django_db

SHOP = "https://www.pasticceria.example"
ELSEWHERE = "https://evil.example"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run what the code leaves for after commit (the pipeline's task, deliveries)."""

    def run(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


class Visitor:
    """A browser on the shop's site: its origin, its token (localStorage)."""

    def __init__(self, channel: Channel, origin: str = SHOP, ip: str = "203.0.113.7") -> None:
        self.channel, self.origin, self.token = channel, origin, ""
        self.client = Client(REMOTE_ADDR=ip)

    def _headers(self) -> dict[str, str]:
        headers = {"Origin": self.origin}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def start(self, **body: Any) -> Any:
        if self.token:
            body.setdefault("token", self.token)
        r = self.client.post(
            f"/chat/{self.channel.code}/session",
            json.dumps(body),
            content_type="application/json",
            headers=self._headers(),
        )
        if r.status_code == 200:
            self.token = r.json()["token"]
        return r

    def write(self, text: str, echo_id: str, **extra: Any) -> Any:
        return self.client.post(
            f"/chat/{self.channel.code}/messages",
            json.dumps({"text": text, "echo_id": echo_id, **extra}),
            content_type="application/json",
            headers=self._headers(),
        )

    def read(self, after: int = 0) -> Any:
        return self.client.get(f"/chat/{self.channel.code}/messages", {"after": after}, headers=self._headers())


def connect(org: Any, **config: Any) -> tuple[Channel, str]:
    admin = make_agent(org, "Anna", role="admin")
    r = AgentApi(admin).post(
        "/channels", {"kind": "webchat", "name": "Chat del sito", "config": {"allowed_origins": [SHOP], **config}}
    )
    assert r.status_code == 201, r.content
    body = r.json()
    return Channel.objects.get(code=body["code"]), body["identity_secret"]


def test_an_admin_connects_a_web_chat_and_sees_the_identity_key_once():
    org = make_org()
    admin = make_agent(org, "Anna", role="admin")

    r = AgentApi(admin).post(
        "/channels",
        {
            "kind": "webchat",
            "name": "Chat del sito",
            "config": {"allowed_origins": [SHOP + "/", "HTTPS://Shop.Example:8443"]},
        },
    )

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "webchat" and body["code"]
    assert body["identity_secret"].startswith("wcs_")
    channel = Channel.objects.get(code=body["code"])
    assert channel.config["allowed_origins"] == [SHOP, "https://shop.example:8443"]
    assert channel.config["identity_secret"] == body["identity_secret"]
    # Stored encrypted (adesso/channels/secrets.py): not in the row's text.
    raw = Channel.objects.filter(pk=channel.pk).values_list("config", flat=True).query
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT config FROM channels_channel WHERE id = %s", [channel.pk])
        stored = str(cursor.fetchone()[0])
    assert body["identity_secret"] not in stored and "$fernet" in stored, raw
    listed = AgentApi(admin).get("/channels").json()
    assert "identity_secret" not in json.dumps(listed)


@pytest.mark.parametrize("origins", [[], ["https://shop.example/path"], ["ftp://shop.example"], ["nonsense"]])
def test_a_web_chat_without_a_proper_origin_is_refused(origins):
    org = make_org()
    r = AgentApi(make_agent(org, "Anna", role="admin")).post(
        "/channels", {"kind": "webchat", "name": "Chat", "config": {"allowed_origins": origins}}
    )
    assert r.status_code == 400, r.content
    assert not Channel.objects.filter(kind="webchat").exists()


def test_a_visitor_writes_is_acknowledged_with_the_estimate_and_reads_the_agents_reply(run):
    org = make_org(ack=True)
    channel, _secret = connect(org)
    mario = Visitor(channel)
    assert mario.start().status_code == 200

    r = run(mario.write, "Buongiorno, avete la torta senza glutine?", "e1", page=SHOP + "/torte")

    assert r.status_code == 202, r.content
    assert r["Access-Control-Allow-Origin"] == SHOP
    assert r.json()["echo_id"] == "e1" and r.json()["duplicate"] is False
    event = InboundEvent.objects.get()
    assert (event.state, event.outcome) == ("processed", "message")
    conversation = Conversation.objects.get()
    assert conversation.channel == channel
    listed = mario.read().json()
    mine, ack = listed["messages"]
    assert (mine["from"], mine["echo_id"], mine["text"]) == (
        "visitor",
        "e1",
        "Buongiorno, avete la torta senza glutine?",
    )
    # The acknowledgement with the estimate (nobody online: the SLA's limit).
    assert ack["from"] == "agent" and ack["auto"] is True and "entro" in ack["text"]
    cursor = listed["cursor"]

    reply = run(do_send_reply, make_agent(org, "Giulia Verdi"), conversation, "Sì, anche senza lattosio.")

    later = mario.read(cursor).json()
    assert [(m["from"], m["text"], m["author"]) for m in later["messages"]] == [
        ("agent", "Sì, anche senza lattosio.", "Giulia")
    ]
    assert later["cursor"] == reply.pk
    assert mario.read(later["cursor"]).json() == {"messages": [], "cursor": reply.pk}
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"


def test_the_same_echo_id_twice_is_one_message_and_a_reload_continues(run):
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()
    run(mario.write, "Ciao", "e1")

    again = run(mario.write, "Ciao", "e1")
    token = mario.token
    mario.token = ""
    mario.start(token=token)  # a reload: the widget sends what localStorage kept
    run(mario.write, "Ci siete?", "e2")

    assert again.json()["duplicate"] is True
    assert mario.token == token
    assert Conversation.objects.count() == 1
    assert [m["echo_id"] for m in mario.read().json()["messages"]] == ["e1", "e2"]


def test_another_visitor_sees_nothing_of_the_first_one(run):
    org = make_org()
    channel, _secret = connect(org)
    mario, luca = Visitor(channel), Visitor(channel, ip="203.0.113.8")
    mario.start()
    luca.start()
    run(mario.write, "Il mio segreto", "e1")

    assert luca.read().json()["messages"] == []
    assert ContactIdentity.objects.filter(kind="webchat").count() == 1


def test_internal_notes_never_reach_the_visitor(run):
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()
    run(mario.write, "Ciao", "e1")
    run(do_send_reply, make_agent(org), Conversation.objects.get(), "cliente difficile", internal=True)

    assert [m["text"] for m in mario.read().json()["messages"]] == ["Ciao"]


def test_an_identified_customer_joins_the_contacts_history(run, client):
    from adesso.contacts.models import Contact

    org = make_org()
    channel, secret = connect(org)
    known = Contact.objects.create(organization=org, name="Mario Rossi", email="mario.rossi@example.com")
    ContactIdentity.objects.create(organization=org, contact=known, kind="email", value="mario.rossi@example.com")
    mario = Visitor(channel)

    r = mario.start(
        identifier="mario.rossi@example.com", identifier_hash=identifier_hash(secret, "mario.rossi@example.com")
    )
    run(mario.write, "Sono Mario, il mio ordine?", "e1")

    assert r.status_code == 200 and r.json()["identified"] is True
    conversation = Conversation.objects.get()
    assert conversation.contact == known
    assert set(ContactIdentity.objects.filter(contact=known).values_list("kind", "value")) == {
        ("email", "mario.rossi@example.com"),
        ("webchat", "id:mario.rossi@example.com"),
    }


def test_a_forged_identifier_hash_is_refused_and_nothing_is_stored(run):
    org = make_org()
    channel, secret = connect(org)
    mallory = Visitor(channel)

    forged = mallory.start(
        identifier="mario.rossi@example.com", identifier_hash=identifier_hash("guess", "mario.rossi@example.com")
    )
    other = mallory.start(
        identifier="mario.rossi@example.com", identifier_hash=identifier_hash(secret, "luca@example.com")
    )
    r = run(mallory.write, "Dammi i dati di Mario", "e1")

    assert (forged.status_code, forged.json()["error"]) == (403, "forged_identity")
    assert other.status_code == 403
    assert r.status_code == 401  # never got a token
    assert not InboundEvent.objects.exists() and not Message.objects.exists()


def test_a_token_for_another_channel_or_tampered_is_refused(run):
    org = make_org()
    shop, _ = connect(org)
    other, _ = connect(org)
    mario = Visitor(shop)
    mario.start()
    token = mario.token

    elsewhere = Visitor(other)
    elsewhere.token = token
    tampered = Visitor(shop)
    tampered.token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    assert run(elsewhere.write, "Ciao", "e1").status_code == 401
    assert run(tampered.write, "Ciao", "e1").status_code == 401
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("origin", [ELSEWHERE, "", "null", SHOP + ":444", "http://www.pasticceria.example"])
def test_a_foreign_origin_is_refused_without_cors_and_nothing_is_stored(run, origin):
    org = make_org()
    channel, _secret = connect(org)
    good = Visitor(channel)
    good.start()
    foreign = Visitor(channel, origin=origin)
    foreign.token = good.token

    answers = [
        foreign.start(),
        run(foreign.write, "Ciao", "e1"),
        foreign.read(),
        foreign.client.get(f"/chat/{channel.code}/config", headers={"Origin": origin}),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert all("Access-Control-Allow-Origin" not in a for a in answers)
    assert not InboundEvent.objects.exists()


def test_a_preflight_from_an_allowed_origin_gets_cors_headers():
    org = make_org()
    channel, _secret = connect(org)
    client = Client()

    ok = client.options(f"/chat/{channel.code}/messages", headers={"Origin": SHOP})
    refused = client.options(f"/chat/{channel.code}/messages", headers={"Origin": ELSEWHERE})

    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == SHOP
    assert "Authorization" in ok["Access-Control-Allow-Headers"]
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused


def test_a_flood_from_one_visitor_is_refused_past_the_limit(run, settings):
    settings.ADESSO_WEBCHAT_VISITOR_MESSAGES_PER_MINUTE = 5
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()

    answers = [run(mario.write, f"messaggio {n}", f"e{n}").status_code for n in range(8)]

    assert answers == [202] * 5 + [429] * 3
    assert InboundEvent.objects.count() == 5


def test_a_flood_from_one_address_is_refused_whatever_the_visitor(run, settings):
    settings.ADESSO_WEBCHAT_IP_REQUESTS_PER_MINUTE = 6
    org = make_org()
    channel, _secret = connect(org)

    answers = []
    for n in range(4):  # a new visitor each time: two requests each
        bot = Visitor(channel)
        answers.append(bot.start().status_code)
        answers.append(run(bot.write, "spam", f"e{n}").status_code)

    assert answers == [200, 202, 200, 202, 200, 202, 429, 429]
    assert InboundEvent.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "", "echo_id": "e1"}, 422),
        ({"text": "x" * 5001, "echo_id": "e1"}, 422),
        ({"text": "ciao"}, 422),
        ({"text": "ciao", "echo_id": "no spaces"}, 422),
        ({"text": 5, "echo_id": "e1"}, 422),
    ],
)
def test_bad_messages_are_refused_with_a_reason_and_nothing_is_stored(run, body, status):
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()

    r = run(
        mario.client.post,
        f"/chat/{channel.code}/messages",
        json.dumps(body),
        content_type="application/json",
        headers={"Origin": SHOP, "Authorization": f"Bearer {mario.token}"},
    )

    assert r.status_code == status, r.content
    assert r.json()["message"]
    assert not InboundEvent.objects.exists()


def test_the_public_config_gives_the_widget_its_look():
    org = make_org()
    channel, _secret = connect(
        org, company_name="Pasticceria Rossi", colour="#aa3355", greeting="Ciao! Come possiamo aiutarti?"
    )

    r = Client().get(f"/chat/{channel.code}/config", headers={"Origin": SHOP})

    assert r.status_code == 200
    assert r.json()["name"] == "Pasticceria Rossi"
    assert (r.json()["colour"], r.json()["greeting"]) == ("#aa3355", "Ciao! Come possiamo aiutarti?")
    assert "identity_secret" not in r.content.decode() and channel.config["identity_secret"] not in r.content.decode()


def test_the_channels_form_edits_the_look_and_origins_and_keeps_the_identity_key():
    from adesso.channels.actions import do_update_channel
    from adesso.channels.registry import get_kind
    from adesso.channels.webchat.forms import WebchatConfigForm

    org = make_org()
    channel, secret = connect(org)
    initial = WebchatConfigForm.initial_from(channel.config)
    form = WebchatConfigForm(
        data={
            "allowed_origins": f"{SHOP}\n\nhttps://m.pasticceria.example/",
            "company_name": "Pasticceria Rossi",
            "colour": "#aa3355",
            "greeting": "Ciao!",
            "language": "it",
        }
    )
    bad = WebchatConfigForm(data={"allowed_origins": "https://shop.example/checkout"})

    assert form.is_valid(), form.errors
    do_update_channel(channel, "Chat del sito", form.config())
    channel.refresh_from_db()

    assert initial["allowed_origins"] == SHOP and "identity_secret" not in initial
    assert not bad.is_valid() and "allowed_origins" in bad.errors
    assert channel.config["allowed_origins"] == [SHOP, "https://m.pasticceria.example"]
    assert (channel.config["colour"], channel.config["language"]) == ("#aa3355", "it")
    assert channel.config["identity_secret"] == secret
    assert list(get_kind("webchat").shown_once(channel, "ach_x").values()) == [secret]


def test_an_admin_connects_a_web_chat_from_the_channels_page_and_sees_the_snippet(client):
    org = make_org()
    anna = make_agent(org, "Anna", role="admin", language="en")
    client.force_login(anna)

    created = client.post(
        "/settings/channels/new/webchat",
        {"name": "Chat del sito", "allowed_origins": SHOP, "colour": "#1f6feb", "language": ""},
    )
    channel = Channel.objects.get(kind="webchat")
    edit = client.get(f"/settings/channels/{channel.code}/edit")

    assert created.status_code == 200, created.status_code
    assert channel.config["identity_secret"] in created.content.decode()  # shown this once
    assert edit.status_code == 200
    page = edit.content.decode()
    assert f'data-channel="{channel.code}"' in page and "/chat/widget.js" in page
    assert channel.config["identity_secret"] not in page
