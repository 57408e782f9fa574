"""The channels page in Chromium, against the loopback Bot API: an admin connects a
Telegram bot from the navigation, copies its inbound address, sends a test, edits it
(the token stays), replays a quarantined event; the page in English and Italian
(ADESSO_SCREENSHOTS=docs/screenshots saves channels-en.png and channels-it.png)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from adesso.accounts.models import Role
from adesso.channels.models import Channel, EventState, InboundEvent
from adesso.conversations.models import Message
from tests.builders import make_agent, make_org
from tests.support.telegram_api import BotApi

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"
TOKEN = "7301234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.fixture
def bot(monkeypatch, settings):
    """Before the server starts: it reads ADESSO_TELEGRAM_API_BASE from its environment."""
    api = BotApi(TOKEN)
    monkeypatch.setenv("ADESSO_TELEGRAM_API_BASE", api.url)
    settings.ADESSO_TELEGRAM_API_BASE = api.url
    yield api
    api.stop()
    assert api.problems == []


def test_an_admin_connects_tests_edits_and_replays_in_the_browser(bot, live_server_url, page, snap):
    url = live_server_url
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN, language="en")
    Channel.objects.create(
        organization=org,
        kind="email",
        name="Assistenza via email",
        config={
            "address": "assistenza@pasticceria.example",
            "smtp": {"host": "smtp.pasticceria.example", "user": "assistenza", "password": "Cannolo-2026!"},
        },
        is_enabled=False,
        disabled_reason="Delivery failed permanently: The mail server refused the login (535)",
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)

    page.goto(f"{url}/login/")
    page.fill("#id_username", francesca.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.click("nav.topbar >> text=Channels")
    page.wait_for_url(f"{url}/settings/channels")
    page.click("a[data-connect=telegram]")
    page.fill("#channel-name", "Bot della pasticceria")
    page.fill("input[name=bot_token]", TOKEN)
    page.click("form.channel-form button[type=submit]")
    page.wait_for_url(f"{url}/settings/channels#channel-*")
    channel = Channel.objects.get(kind="telegram")
    row = page.locator(f"#channel-{channel.code}")
    expect(row).to_contain_text("Bot della pasticceria")
    expect(row).to_contain_text("Enabled")
    assert bot.methods()[0] == "getMe"

    # The inbound address, to the clipboard.
    inbound = row.locator("input[readonly]").first
    expect(inbound).to_have_value(f"{channel.inbound_url}")
    row.locator("button.copy").first.click()
    expect(row.locator("button.copy").first).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == channel.inbound_url

    # Send a test: the kind says what it checked.
    row.locator("text=Send a test").click()
    expect(page.locator(".flash")).to_contain_text("Telegram knows the bot @pasticceria_rossi_bot")

    # Edit: the token is not shown, only that it is set; left empty, it stays.
    page.locator(f"#channel-{channel.code} >> text=Edit").click()
    token_input = page.locator("input[name=bot_token]")
    expect(token_input).to_have_value("")
    expect(token_input).to_have_attribute("placeholder", "••••" + TOKEN[-4:])
    page.fill("#channel-name", "Bot di Natale")
    page.click("form.channel-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Channel Bot di Natale saved.")
    channel.refresh_from_db()
    assert channel.config["bot_token"] == TOKEN

    # A quarantined event, replayed from the page, becomes its message.
    update = {
        "update_id": 880001,
        "message": {
            "message_id": 41,
            "date": 1764856800,
            "from": {"id": 111222333, "is_bot": False, "first_name": "Mario"},
            "chat": {"id": 111222333, "first_name": "Mario", "type": "private"},
            "text": "La torta di sabato è pronta?",
        },
    }
    stuck = InboundEvent.objects.create(
        organization=org,
        channel=channel,
        external_id="880001",
        sender_key="111222333",
        position=880001,
        body=json.dumps(update).encode(),
        state=EventState.QUARANTINED,
        attempts=6,
        error="OperationalError: database is locked",
    )
    page.reload()
    expect(page.locator("#quarantine")).to_contain_text("database is locked")
    snap(page, "channels-en")
    page.locator(f'tr[data-event="{stuck.code}"] button').click()
    expect(page.locator(".flash")).to_contain_text("is back in the queue")
    stuck.refresh_from_db()
    assert stuck.state == EventState.PROCESSED
    assert Message.objects.get(channel=channel).text == "La torta di sabato è pronta?"

    # The same page in Italian (a second quarantined event, for the picture).
    InboundEvent.objects.create(
        organization=org,
        channel=channel,
        external_id="880002",
        sender_key="111222333",
        position=880002,
        body=b"{}",
        state=EventState.QUARANTINED,
        attempts=1,
        error="The body is not a Telegram Update (no update_id)",
    )
    page.click(".topbar .lang button[value=it]")
    expect(page.locator("h1")).to_have_text("Canali")
    expect(page.locator(f"#channel-{channel.code}")).to_contain_text("Invia una prova")
    snap(page, "channels-it")
    assert page.problems == []
