"""Right to erasure: after it, the contact's email, phone and name are nowhere: not in any
column of any table (found by introspection, not by a list), not in storage, not in the
search index, not in the cache; the conversations still count in reports."""

from __future__ import annotations

import json
import os

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from adesso.accounts.models import Role
from adesso.channels.actions import do_create_channel
from adesso.contacts.actions import do_merge_contacts, do_update_contact
from adesso.contacts.models import Contact
from adesso.conversations.models import Conversation, Message
from adesso.conversations.search import search_contacts, search_messages
from tests.builders import AgentApi, attachment, customer_writes, make_agent, make_api_channel, make_org
from tests.support.mailintake import receive_mail
from tests.support.mailservers import compose

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "Mario Bianchi"
EMAIL = "mario.bianchi@example.net"
PHONE = "3331234567"  # the digits of +39 333 123 4567, as every stored form holds them
TERMS = [NAME, EMAIL, PHONE, "Bianchi"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


def database_traces(terms: list[str]) -> list[str]:
    """Every table, every column, every row: where any term appears (case-insensitive)."""
    wanted = [t.lower() for t in terms]
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, memoryview | bytes):
                        text = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    found += [f"{table}.{column}: {t}" for t in wanted if t in text.lower()]
    return found


def storage_traces(root: str, terms: list[str]) -> list[str]:
    wanted = [t.lower().encode() for t in terms] + [t.lower().replace(" ", "_").encode() for t in terms]
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                content = f.read().lower() + b" " + path.lower().encode()
            found += [f"{path}: {t.decode()}" for t in wanted if t in content]
    return found


def cache_traces(terms: list[str]) -> list[str]:
    wanted = [t.lower().encode() for t in terms]
    stored = getattr(cache, "_cache", {})  # the local-memory cache's pickled values
    return [f"cache {key}" for key, value in stored.items() for t in wanted if t in bytes(value).lower()]


@pytest.fixture
def history(settings):
    """Mario writes through the website, by email and as a second contact that an agent
    merged into him; agents answer, note, transfer and resolve; another customer, Giovanna,
    writes too and must be left alone."""
    org = make_org("Pasticceria Rossi")
    anna = make_agent(org, "Anna", role=Role.ADMIN)
    luca = make_agent(org, "Luca")
    sara = make_agent(org, "Sara")
    web = make_api_channel(org)
    first = customer_writes(
        web,
        "Buongiorno, sono Mario Bianchi, la torta è arrivata rotta. Chiamatemi al 333 123 4567.",
        sender={"name": NAME, "email": EMAIL, "phone": "+39 333 123 4567"},
        attachments=[attachment("mario_bianchi_torta.png", PNG, "image/png")],
    )
    code = first["conversation"]
    mario = Contact.objects.get(organization=org, email=EMAIL)
    do_update_contact(anna, mario, notes="Cliente storico, Bianchi preferisce il telefono")
    luca_api = AgentApi(luca)
    luca_api.post(f"/conversations/{code}/assign", {"assignee": luca.code})
    luca_api.post(f"/conversations/{code}/messages", {"text": "Gentile signor Bianchi, rimborsiamo subito."})
    luca_api.post(f"/conversations/{code}/messages", {"text": f"nota: scrivere a {EMAIL}", "internal": True})
    luca_api.post(f"/conversations/{code}/assign", {"assignee": sara.code, "note": "Mario Bianchi richiama domani"})
    luca_api.post(f"/conversations/{code}/status", {"status": "resolved", "reason": "rimborso a Bianchi"})
    customer_writes(web, "Sono ancora Mario, da un altro telefono", sender_id="cust-2", sender={"name": "Mario B."})
    second = Contact.objects.get(organization=org, identities__value__endswith="cust-2")
    do_merge_contacts(anna, second, mario)
    mail_channel, _ = do_create_channel(org, "email", "Assistenza", {"address": "help@rossi.example"})
    receive_mail(
        mail_channel,
        compose(sender=f"{NAME} <{EMAIL}>", to="help@rossi.example", text="Salve, sono Mario Bianchi: il rimborso?"),
    )
    customer_writes(
        web,
        "Vorrei una torta per sabato",
        sender_id="cust-3",
        sender={"name": "Giovanna Verdi", "email": "giovanna.verdi@example.org"},
    )
    return org, anna, mario, settings.MEDIA_ROOT


def test_after_erasure_no_trace_of_the_contact_remains_anywhere(history):
    """Acceptance 3."""
    org, anna, mario, media = history
    assert database_traces(TERMS), "the scan finds the contact before erasure"
    assert storage_traces(media, TERMS), "and its files"
    conversations = Conversation.objects.filter(organization=org).count()
    messages = Message.objects.filter(organization=org).count()

    r = AgentApi(anna).post(f"/contacts/{mario.code}/erase")

    assert r.status_code == 200, r.content
    counts = r.json()["counts"]
    assert counts["conversations"] == 3 and counts["attachments"] == 1 and counts["mails"] == 1
    assert database_traces(TERMS) == []
    assert storage_traces(media, TERMS) == []
    assert cache_traces(TERMS) == []
    assert list(search_messages(anna, "Bianchi")) == list(search_messages(anna, "torta rotta")) == []
    assert list(search_contacts(anna, EMAIL)) == list(search_contacts(anna, PHONE)) == []
    assert AgentApi(anna).get("/contacts", q="Bianchi").json()["count"] == 0
    # Only aggregate figures stay: every conversation and message still counts.
    assert Conversation.objects.filter(organization=org).count() == conversations
    assert Message.objects.filter(organization=org).count() == messages
    # Giovanna is untouched: the scan would have seen her.
    assert database_traces(["giovanna.verdi@example.org"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stemmed index exists on PostgreSQL")
def test_the_postgresql_text_index_no_longer_matches(history):
    _org, anna, mario, _media = history
    sql = (
        "SELECT count(*) FROM conversations_message WHERE to_tsvector('italian', COALESCE(text, ''))"
        " @@ plainto_tsquery('italian', %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ["Bianchi"])
        assert cursor.fetchone()[0] > 0

    AgentApi(anna).post(f"/contacts/{mario.code}/erase")

    with connection.cursor() as cursor:
        cursor.execute(sql, ["Bianchi"])
        assert cursor.fetchone()[0] == 0


def test_the_ui_asks_to_type_the_code_and_only_admins_erase(history):
    org, anna, mario, _media = history
    luca = make_agent(org, "Luca", role=Role.SUPERVISOR)
    admin_web = logged_in(anna)

    assert f'href="/contacts/{mario.code}/erase"' in admin_web.get(f"/contacts/{mario.code}/").content.decode()
    assert "Per confermare" in admin_web.get(f"/contacts/{mario.code}/erase").content.decode()
    wrong = admin_web.post(f"/contacts/{mario.code}/erase", {"confirm": "sì"})
    assert wrong.status_code == 400
    assert Contact.objects.get(pk=mario.pk).erased_at is None
    assert logged_in(luca).post(f"/contacts/{mario.code}/erase", {"confirm": mario.code}).status_code == 403
    assert AgentApi(luca).post(f"/contacts/{mario.code}/erase").status_code == 403
    stranger = make_agent(make_org("Altra"), "Paolo", role=Role.ADMIN)
    assert AgentApi(stranger).post(f"/contacts/{mario.code}/erase").status_code == 404

    done = admin_web.post(f"/contacts/{mario.code}/erase", {"confirm": mario.code})

    assert done.status_code == 302
    page = admin_web.get(f"/contacts/{mario.code}/").content.decode()
    assert "Dati personali cancellati" in page
    assert NAME not in page


def test_erasing_twice_is_harmless_and_a_merged_contact_points_to_its_target(history):
    _org, anna, mario, _media = history
    merged = Contact.objects.get(merged_into=mario)
    api = AgentApi(anna)

    refused = api.post(f"/contacts/{merged.code}/erase")
    assert refused.status_code == 400 and refused.json()["error"] == "merged"
    assert api.post(f"/contacts/{mario.code}/erase").status_code == 200
    again = api.post(f"/contacts/{mario.code}/erase")
    assert again.status_code == 200
    assert again.json()["counts"]["attachments"] == 0
