"""The channels page (admins), through Django's test client, against the loopback Bot API
(tests/support/telegram_api.py): the list with state and counts, connecting a bot,
editing (the secret is kept when left empty), disabling, the kind's test, replaying a
quarantined event; agents get 403, another organisation's channel 404."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from adesso.accounts.models import Role
from adesso.channels.actions import do_create_channel
from adesso.channels.models import Channel, EventState, InboundEvent
from adesso.conversations.models import Message
from tests.builders import make_agent, make_org
from tests.support.telegram_api import BotApi
from tests.test_api_channel_webhook import webhook as webhook_fixture

pytestmark = pytest.mark.django_db

# The client system's endpoint on 127.0.0.1 (tests/test_api_channel_webhook.py).
webhook = webhook_fixture

TOKEN = "7301234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
SITE = "https://assistenza.pasticceria.example"
MARIO = {"id": 111222333, "is_bot": False, "first_name": "Mario", "last_name": "Rossi"}


@pytest.fixture
def bot(settings):
    api = BotApi(TOKEN)
    settings.ADESSO_TELEGRAM_API_BASE = api.url
    settings.SITE_URL = SITE
    yield api
    api.stop()
    assert api.problems == []


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bot_channel(org: Any) -> Channel:
    channel, _ = do_create_channel(org, "telegram", "Bot della pasticceria", {"bot_token": TOKEN})
    return channel


def event(channel: Channel, state: str, n: int, **fields: Any) -> InboundEvent:
    update = {
        "update_id": 900 + n,
        "message": {
            "message_id": n,
            "from": MARIO,
            "chat": {**{k: v for k, v in MARIO.items() if k != "is_bot"}, "type": "private"},
            "date": 1764856800,
            "text": f"Messaggio {n}",
        },
    }
    return InboundEvent.objects.create(
        organization_id=channel.organization_id,
        channel=channel,
        external_id=str(900 + n),
        sender_key=str(MARIO["id"]),
        position=900 + n,
        body=json.dumps(update).encode(),
        state=state,
        **fields,
    )


def test_the_page_lists_each_channel_with_its_state_counts_and_inbound_address(bot):
    org = make_org()
    anna = make_agent(org, "Anna", role=Role.ADMIN, language="en")
    channel = bot_channel(org)
    event(channel, EventState.PROCESSED, 1, processed_at=timezone.now())
    event(channel, EventState.ACCEPTED, 2)
    event(channel, EventState.FAILED, 3, error="Telegram answered 502")
    event(channel, EventState.QUARANTINED, 4, error="The body is not a Telegram Update (no update_id)")
    make_agent(make_org("Altra"), "Bruno", role=Role.ADMIN)
    do_create_channel(make_org("Altra"), "api", "Sito altrui")

    r = logged_in(anna).get("/settings/channels")

    assert r.status_code == 200
    page = r.content.decode()
    assert 'href="/settings/channels" aria-current="page"' in page  # in the admin navigation
    assert "Bot della pasticceria" in page and "Sito altrui" not in page
    row = page[page.index(f'id="channel-{channel.code}"') :]
    row = row[: row.index("</tr>")]
    assert "Enabled" in row and "ago" in row
    assert '<td class="num waiting">2</td>' in row  # accepted + failed (retrying)
    assert "1 / " in row  # one retrying, one quarantined
    assert f'value="{SITE}/channels/telegram/{channel.code}/inbound"' in row
    assert 'data-copy="inbound-' in row
    assert TOKEN not in page and TOKEN[-10:] not in page
    assert "The body is not a Telegram Update" in page  # the quarantine, with its reason
    assert "/settings/channels/new/telegram" in page  # the kinds with a form can be connected


def test_agents_get_403_and_another_organisations_channel_is_404(bot):
    org = make_org()
    channel = bot_channel(org)
    quarantined = event(channel, EventState.QUARANTINED, 1, error="x")
    giulia = logged_in(make_agent(org, "Giulia"))
    stranger = logged_in(make_agent(make_org("Altra"), "Bruno", role=Role.ADMIN))
    base = f"/settings/channels/{channel.code}"

    assert giulia.get("/settings/channels").status_code == 403
    assert giulia.get("/settings/channels/new/telegram").status_code == 403
    assert giulia.get(f"{base}/edit").status_code == 403
    for path in (f"{base}/enabled", f"{base}/test", f"{base}/events/{quarantined.code}/replay"):
        assert giulia.post(path, {"enabled": "0"}).status_code == 403
        assert stranger.post(path, {"enabled": "0"}).status_code == 404
    assert stranger.get(f"{base}/edit").status_code == 404
    assert "Channels" not in giulia.get("/").content.decode().split("</nav>")[0]
    channel.refresh_from_db()
    quarantined.refresh_from_db()
    assert channel.is_enabled and quarantined.state == EventState.QUARANTINED
    assert bot.methods() == ["getMe", "setWebhook"]  # no test was sent for them


def test_an_admin_connects_a_bot_with_the_kinds_form_checked_against_the_bot_api(bot):
    org = make_org()
    anna = logged_in(make_agent(org, "Anna", role=Role.ADMIN))

    form = anna.get("/settings/channels/new/telegram")
    assert form.status_code == 200
    assert 'name="bot_token"' in form.content.decode() and 'type="password"' in form.content.decode()

    wrong = anna.post(
        "/settings/channels/new/telegram", {"name": "Bot", "bot_token": "7301234567:AAwrongwrongwrongwrongwrong"}
    )
    assert wrong.status_code == 400
    assert "Telegram does not know this bot token" in wrong.content.decode()
    assert not Channel.objects.exists()

    r = anna.post("/settings/channels/new/telegram", {"name": "Bot della pasticceria", "bot_token": TOKEN})

    assert r.status_code == 302
    channel = Channel.objects.get()
    assert (channel.organization, channel.kind, channel.name) == (org, "telegram", "Bot della pasticceria")
    assert channel.config["bot_token"] == TOKEN and channel.config["bot_username"] == "pasticceria_rossi_bot"
    assert bot.sent("setWebhook")[0].body["url"] == f"{SITE}/channels/telegram/{channel.code}/inbound"
    assert r["Location"] == f"/settings/channels#channel-{channel.code}"


def test_editing_keeps_the_secret_when_left_empty_and_never_shows_it(bot):
    org = make_org()
    anna = logged_in(make_agent(org, "Anna", role=Role.ADMIN))
    channel = bot_channel(org)
    webhook_secret = channel.config["webhook_secret"]

    page = anna.get(f"/settings/channels/{channel.code}/edit").content.decode()
    assert TOKEN not in page and webhook_secret not in page
    assert "••••" + TOKEN[-4:] in page  # only whether it is set

    r = anna.post(f"/settings/channels/{channel.code}/edit", {"name": "Bot di Natale", "bot_token": "", "mode": ""})

    assert r.status_code == 302, r.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.name == "Bot di Natale"
    assert channel.config["bot_token"] == TOKEN
    assert channel.config["webhook_secret"] == webhook_secret
    assert bot.sent("setWebhook")[-1].body["secret_token"] == webhook_secret

    # A new token Telegram does not know is refused; the stored one stays.
    wrong = anna.post(
        f"/settings/channels/{channel.code}/edit",
        {"name": "Bot di Natale", "bot_token": "7309999999:AAanotheranotheranotheranother"},
    )
    assert wrong.status_code == 400 and "Telegram does not know this bot token" in wrong.content.decode()
    channel.refresh_from_db()
    assert channel.config["bot_token"] == TOKEN


def test_disabling_refuses_the_webhook_and_enabling_clears_the_reason(bot):
    org = make_org()
    anna = logged_in(make_agent(org, "Anna", role=Role.ADMIN, language="en"))
    channel = bot_channel(org)

    r = anna.post(f"/settings/channels/{channel.code}/enabled", {"enabled": "0"})

    assert r.status_code == 302
    channel.refresh_from_db()
    assert not channel.is_enabled
    assert "Anna" in channel.disabled_reason
    page = anna.get("/settings/channels").content.decode()
    assert "Disabled" in page and channel.disabled_reason in page
    # Telegram's next update is refused, and nothing is stored.
    refused = Client().post(
        f"/channels/telegram/{channel.code}/inbound",
        json.dumps({"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}}}),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": channel.config["webhook_secret"]},
    )
    assert refused.status_code == 404 and refused.json()["error"] == "channel_disabled"
    assert not InboundEvent.objects.exists()

    anna.post(f"/settings/channels/{channel.code}/enabled", {"enabled": "1"})
    channel.refresh_from_db()
    assert channel.is_enabled and channel.disabled_reason == ""


def test_send_a_test_asks_the_kind_telegram_calls_getme(bot):
    org = make_org()
    anna = logged_in(make_agent(org, "Anna", role=Role.ADMIN, language="en"))
    channel = bot_channel(org)

    ok = anna.post(f"/settings/channels/{channel.code}/test", follow=True).content.decode()
    assert "Telegram knows the bot @pasticceria_rossi_bot" in ok
    assert bot.methods()[-1] == "getMe"

    bot.fail_next("getMe", 401, "Unauthorized")
    failed = anna.post(f"/settings/channels/{channel.code}/test", follow=True).content.decode()
    assert "Test of Bot della pasticceria failed" in failed and "401" in failed
    assert TOKEN not in failed


def test_replaying_a_quarantined_event_makes_its_message(bot, run):
    org = make_org()
    anna = logged_in(make_agent(org, "Anna", role=Role.ADMIN))
    channel = bot_channel(org)
    stuck = event(channel, EventState.QUARANTINED, 7, attempts=6, error="database was locked")
    assert "database was locked" in anna.get("/settings/channels").content.decode()

    r = run(anna.post, f"/settings/channels/{channel.code}/events/{stuck.code}/replay")

    assert r.status_code == 302 and r["Location"].endswith("#quarantine")
    stuck.refresh_from_db()
    assert stuck.state == EventState.PROCESSED
    assert Message.objects.get(channel=channel).text == "Messaggio 7"
    # A processed event cannot be replayed: the page says so, nothing changes.
    again = anna.post(f"/settings/channels/{channel.code}/events/{stuck.code}/replay", follow=True)
    assert again.status_code == 200
    assert Message.objects.filter(channel=channel).count() == 1


def test_the_page_speaks_italian(bot):
    org = make_org()
    anna = logged_in(make_agent(org, "Anna", role=Role.ADMIN, language="it"))
    bot_channel(org)

    page = anna.get("/settings/channels").content.decode()

    for text in ("Canali", "Collega Telegram", "Invia una prova", "Disattiva", "Eventi in quarantena", "Copia"):
        assert text in page, text


def test_an_api_channel_connected_on_the_page_shows_its_token_and_key_once(settings):
    org = make_org()
    anna = logged_in(make_agent(org, "Anna", role=Role.ADMIN, language="en"))

    r = anna.post("/settings/channels/new/api", {"name": "Negozio online", "webhook_url": ""})

    assert r.status_code == 200
    page = r.content.decode()
    channel = Channel.objects.get(kind="api")
    token = re.search(r'value="(ach_[^"]+)"', page).group(1)
    assert channel.token_matches(token)
    assert f'value="{channel.config["signing_secret"]}"' in page
    # The token works for intake; the channels page never shows either again.
    intake = Client().post(
        f"/api/v1/inbound/{channel.code}",
        json.dumps({"external_id": "o-1", "sender": {"external_id": "c-1", "name": "Lucia"}, "text": "Ciao"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert intake.status_code == 202, intake.content
    later = (
        anna.get("/settings/channels").content.decode()
        + anna.get(f"/settings/channels/{channel.code}/edit").content.decode()
    )
    assert token not in later and channel.config["signing_secret"] not in later


def test_the_api_kinds_test_is_a_signed_call_of_its_webhook(webhook):
    org = make_org()
    anna = logged_in(make_agent(org, "Anna", role=Role.ADMIN, language="en"))
    channel, _ = do_create_channel(org, "api", "Negozio online", {"webhook_url": webhook.url})

    ok = anna.post(f"/settings/channels/{channel.code}/test", follow=True).content.decode()

    assert "The webhook answered 200 to a signed test call." in ok
    hit = webhook.hits[-1]
    assert hit.json()["event"] == "test" and hit.json()["channel"] == channel.code
    expected = hmac.new(channel.config["signing_secret"].encode(), hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["x-adesso-signature"] == f"sha256={expected}"

    webhook.answer(503)
    failed = anna.post(f"/settings/channels/{channel.code}/test", follow=True).content.decode()
    assert "Test of Negozio online failed: The webhook answered 503" in failed

    plain, _ = do_create_channel(org, "api", "Gestionale")
    said = anna.post(f"/settings/channels/{plain.code}/test", follow=True).content.decode()
    assert "No webhook address" in said


def test_an_email_channel_edited_on_the_page_keeps_its_nested_passwords():
    org = make_org()
    anna = logged_in(make_agent(org, "Anna", role=Role.ADMIN, language="en"))
    channel = Channel.objects.create(
        organization=org,
        kind="email",
        name="Assistenza",
        config={
            "address": "assistenza@pasticceria.example",
            "imap": {"host": "127.0.0.1", "port": 993, "user": "assistenza", "password": "Cannolo-Siciliano-2026!"},
            "smtp": {"host": "127.0.0.1", "port": 587, "user": "assistenza", "password": "Sfogliatella-Riccia-99"},
        },
    )

    form = anna.get(f"/settings/channels/{channel.code}/edit").content.decode()
    assert "Cannolo" not in form and "Sfogliatella" not in form
    assert "2026!" not in form and "a-99" not in form  # passwords: only that they are set
    assert form.count('placeholder="••••"') == 2
    assert 'value="127.0.0.1"' in form and 'value="assistenza"' in form  # the nested settings, prefilled
    fields = {
        "name": "Assistenza clienti",
        "address": "assistenza@pasticceria.example",
        "imap_host": "127.0.0.1",
        "imap_port": "993",
        "imap_ssl": "on",
        "imap_user": "assistenza",
        "imap_folder": "INBOX",
        "smtp_host": "127.0.0.1",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_user": "assistenza",
        "threading": "new",
    }

    r = anna.post(f"/settings/channels/{channel.code}/edit", fields)

    assert r.status_code == 302, r.content.decode()[:3000]
    channel = Channel.objects.get(pk=channel.pk)
    assert channel.name == "Assistenza clienti"
    assert channel.config["imap"]["password"] == "Cannolo-Siciliano-2026!"
    assert channel.config["smtp"]["password"] == "Sfogliatella-Riccia-99"

    anna.post(f"/settings/channels/{channel.code}/edit", {**fields, "smtp_password": "Nuova-Password-Cassata"})
    channel = Channel.objects.get(pk=channel.pk)
    assert channel.config["smtp"]["password"] == "Nuova-Password-Cassata"
    assert channel.config["imap"]["password"] == "Cannolo-Siciliano-2026!"
