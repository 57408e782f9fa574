"""Channel secrets encrypted at rest (adesso/channels/secrets.py): the database row holds
no secret in clear, rotation keeps them readable, a wrong key is a clear error, the
API never shows them back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from adesso.accounts.models import Role
from adesso.channels.actions import do_create_channel
from adesso.channels.models import Channel
from adesso.channels.secrets import MARK, SecretsKeyError
from adesso.checks import check_configuration
from tests.builders import AgentApi, make_agent, make_org
from tests.support.telegram_api import BotApi

pytestmark = pytest.mark.django_db

TOKEN = "7301234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
IMAP_PASSWORD = "Cannolo-Siciliano-2026!"
KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw_config(channel: Channel) -> str:
    """The row as the database holds it, past the model field."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT config FROM channels_channel WHERE id = %s", [channel.pk])
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else json.dumps(value)


@pytest.fixture
def bot(settings):
    api = BotApi(TOKEN)
    settings.ADESSO_TELEGRAM_API_BASE = api.url
    settings.SITE_URL = "https://assistenza.pasticceria.example"
    yield api
    api.stop()
    assert api.problems == []


def email_config(**imap: Any) -> dict[str, Any]:
    return {
        "address": "assistenza@pasticceria.example",
        "imap": {"host": "imap.pasticceria.example", "user": "assistenza", "password": IMAP_PASSWORD, **imap},
        "webhook_secret": "postmark:Sfogliatella-Riccia-99",
    }


def make_mail_channel(org: Any, name: str = "Posta") -> tuple[Channel, str]:
    """Saved as the model saves it (connecting would look the IMAP host up)."""
    return Channel.objects.create(organization=org, kind="email", name=name, config=email_config()), ""


def test_the_database_row_holds_no_secret_in_clear_and_the_kind_still_reads_them(bot, settings):
    settings.ADESSO_SECRETS_KEY = KEY_A
    org = make_org()
    telegram, _ = do_create_channel(org, "telegram", "Bot", {"bot_token": TOKEN})
    mail, _ = make_mail_channel(org)
    api, _ = do_create_channel(org, "api", "Sito")

    stored = Channel.objects.get(pk=telegram.pk)
    secret = stored.config["webhook_secret"]
    for channel, secrets in (
        (telegram, [TOKEN, TOKEN.split(":")[1], secret]),
        (mail, [IMAP_PASSWORD, "Sfogliatella-Riccia-99"]),
        (api, [Channel.objects.get(pk=api.pk).config["signing_secret"]]),
    ):
        raw = raw_config(channel)
        assert MARK in raw
        for value in secrets:
            assert value not in raw, (channel.kind, value)
    # What is not secret stays readable in the row (the address, the bot's name).
    assert "assistenza@pasticceria.example" in raw_config(mail)
    assert "pasticceria_rossi_bot" in raw_config(telegram)
    # The kind reads them as before: Telegram's webhook is accepted with its secret.
    assert stored.config["bot_token"] == TOKEN
    assert Channel.objects.get(pk=mail.pk).config["imap"]["password"] == IMAP_PASSWORD
    r = Client().post(
        f"/channels/telegram/{telegram.code}/inbound",
        json.dumps({"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}, "text": "ci"}}),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )
    assert r.status_code == 200, r.content


def test_saving_again_keeps_them_sealed_and_an_edit_in_clear_is_sealed(settings):
    settings.ADESSO_SECRETS_KEY = KEY_A
    channel, _ = make_mail_channel(make_org())
    channel = Channel.objects.get(pk=channel.pk)
    channel.config["imap"]["password"] = "Nuova-Password-Cassata"
    channel.save(update_fields=["config"])

    raw = raw_config(channel)
    assert "Nuova-Password-Cassata" not in raw and IMAP_PASSWORD not in raw
    assert Channel.objects.get(pk=channel.pk).config["imap"]["password"] == "Nuova-Password-Cassata"


def test_rotation_re_encrypts_every_secret_and_they_still_read(settings, capsys):
    settings.ADESSO_SECRETS_KEY = KEY_A
    org = make_org()
    channels = [make_mail_channel(org, f"Posta {i}")[0] for i in range(3)]
    before = [raw_config(c) for c in channels]

    settings.ADESSO_SECRETS_KEY = f"{KEY_B},{KEY_A}"
    call_command("rotatesecrets")
    assert "3 channel(s) re-encrypted with the first of 2 key(s)" in capsys.readouterr().out

    settings.ADESSO_SECRETS_KEY = KEY_B  # the old key is gone
    for channel, old in zip(channels, before, strict=True):
        assert raw_config(channel) != old
        assert IMAP_PASSWORD not in raw_config(channel)
        assert Channel.objects.get(pk=channel.pk).config["imap"]["password"] == IMAP_PASSWORD


def test_a_wrong_key_is_a_clear_error_and_rotation_refuses_it(settings):
    settings.ADESSO_SECRETS_KEY = KEY_A
    channel, _ = make_mail_channel(make_org())
    raw = raw_config(channel)

    settings.ADESSO_SECRETS_KEY = KEY_B
    with pytest.raises(SecretsKeyError, match="not the key it was encrypted with"):
        Channel.objects.get(pk=channel.pk)
    with pytest.raises(CommandError, match="ADESSO_SECRETS_KEY=new,old"):
        call_command("rotatesecrets")
    assert raw_config(channel) == raw  # nothing was lost

    settings.ADESSO_SECRETS_KEY = "not-a-key"
    with pytest.raises(SecretsKeyError, match="not a list of Fernet keys"):
        Channel.objects.get(pk=channel.pk)


def test_the_migration_encrypts_secrets_stored_in_clear(settings):
    settings.ADESSO_SECRETS_KEY = KEY_A
    channel, _ = make_mail_channel(make_org())
    with connection.cursor() as cursor:  # as a channel saved before encryption
        cursor.execute(
            "UPDATE channels_channel SET config = %s WHERE id = %s", [json.dumps(email_config()), channel.pk]
        )
    assert IMAP_PASSWORD in raw_config(channel)

    migration = __import__("adesso.channels.migrations.0004_channel_secrets_encrypted", fromlist=["encrypt"])
    migration.encrypt(apps, None)

    assert IMAP_PASSWORD not in raw_config(channel)
    assert Channel.objects.get(pk=channel.pk).config["imap"]["password"] == IMAP_PASSWORD


def test_the_api_never_returns_a_secret(settings):
    settings.ADESSO_SECRETS_KEY = KEY_A
    org = make_org()
    anna = AgentApi(make_agent(org, "Anna", role=Role.ADMIN))
    channel, _ = make_mail_channel(org)

    listed = anna.get("/channels")

    assert listed.status_code == 200
    text = listed.content.decode()
    assert channel.code in text
    for value in (IMAP_PASSWORD, "Sfogliatella-Riccia-99", MARK, "config"):
        assert value not in text


def test_adesso_check_warns_on_a_public_site_without_a_key_and_refuses_a_bad_one(settings):
    settings.SITE_URL = "https://assistenza.pasticceria.example"
    settings.DEBUG = False
    settings.SECRET_KEY = "a-long-random-production-secret-key-for-the-test"
    settings.ADESSO_SECRETS_KEY = ""
    assert "adesso.W001" in [m.id for m in check_configuration()]

    settings.ADESSO_SECRETS_KEY = "short"
    assert "adesso.E007" in [m.id for m in check_configuration()]

    settings.ADESSO_SECRETS_KEY = KEY_A
    assert not {"adesso.W001", "adesso.E007"} & {m.id for m in check_configuration()}
