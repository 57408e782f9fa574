"""Right of access: a contact's export as a streamed ZIP, from the API and the contact page."""

from __future__ import annotations

import base64
import io
import json
import os
import zipfile

import pytest
from django.test import Client

from adesso.accounts.models import Role
from adesso.channels.actions import do_create_channel
from adesso.contacts.models import Contact
from adesso.privacy.actions import do_save_privacy_settings
from tests.builders import AgentApi, attachment, customer_writes, make_agent, make_api_channel, make_org
from tests.support.mailintake import receive_mail
from tests.support.mailservers import compose

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


def unzip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def shop():
    org = make_org("Pasticceria Rossi")
    anna = make_agent(org, "Anna", role=Role.ADMIN)
    sara = make_agent(org, "Sara", role=Role.SUPERVISOR)
    luca = make_agent(org, "Luca")
    ch = make_api_channel(org)
    first = customer_writes(
        ch,
        "La torta è arrivata rotta, IBAN per il rimborso IT60 X054 2811 1010 0000 0123 456",
        sender={"email": "mario.bianchi@example.net", "phone": "+39 333 123 4567"},
        attachments=[attachment("foto.png", PNG, "image/png")],
    )
    contact = Contact.objects.get(organization=org)
    AgentApi(luca).post(f"/conversations/{first['conversation']}/messages", {"text": "Ci scusi, rimborsiamo subito."})
    return org, anna, sara, luca, ch, contact, first["conversation"]


def test_the_api_export_holds_the_contact_conversations_messages_events_and_files(shop):
    _org, _anna, sara, _luca, _ch, contact, code = shop
    r = AgentApi(sara).get(f"/contacts/{contact.code}/export")

    assert r.status_code == 200
    assert r["Content-Type"] == "application/zip"
    assert r["Content-Disposition"] == f'attachment; filename="adesso-contact-{contact.code}.zip"'
    archive = unzip(r)
    names = archive.namelist()
    assert names[:2] == ["README.txt", "contact.json"]
    data = json.loads(archive.read("contact.json"))
    assert data["name"] == "Mario Bianchi"
    assert data["email"] == "mario.bianchi@example.net"
    assert {(i["kind"], i["value"]) for i in data["identities"]} >= {("email", "mario.bianchi@example.net")}
    conversation = json.loads(archive.read(f"conversations/{code}.json"))
    texts = [(m["direction"], m["text"]) for m in conversation["messages"]]
    assert texts[0][1].startswith("La torta è arrivata rotta")
    assert ("outgoing", "Ci scusi, rimborsiamo subito.") in texts
    assert "message_received" in [e["kind"] for e in conversation["events"]]
    photo = conversation["messages"][0]["attachments"][0]
    assert photo["filename"] == "foto.png"
    assert archive.read(photo["file"]) == PNG
    assert "Esportazione del contatto" in archive.read("README.txt").decode()


def test_the_redacted_export_hides_the_configured_kinds_and_leaves_files_out(shop):
    _org, anna, sara, _luca, _ch, contact, code = shop
    do_save_privacy_settings(anna, redact_kinds=["iban", "email"])

    archive = unzip(AgentApi(sara).get(f"/contacts/{contact.code}/export", redacted="true"))

    conversation = json.loads(archive.read(f"conversations/{code}.json"))
    first = conversation["messages"][0]
    assert first["text"] == "La torta è arrivata rotta, IBAN per il rimborso [IBAN]"
    assert first["attachments"][0]["file"] is None
    assert not [n for n in archive.namelist() if n.startswith("attachments/")]


def test_a_big_contact_is_streamed_in_pieces(shop, settings):
    """Three 4 MB files: the answer comes in pieces of at most a few hundred KB, never whole."""
    _org, _anna, sara, _luca, ch, contact, _code = shop
    settings.ADESSO_MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
    settings.ADESSO_MAX_BODY_BYTES = 30 * 1024 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 40 * 1024 * 1024
    blobs = [b"A" + os.urandom(4 * 1024 * 1024) for _ in range(3)]
    for i, blob in enumerate(blobs):
        customer_writes(
            ch,
            f"file {i}",
            sender={"email": "mario.bianchi@example.net"},
            attachments=[
                {
                    "filename": f"dati{i}.txt",
                    "content_type": "text/plain",
                    "content_base64": base64.b64encode(blob).decode(),
                }
            ],
        )

    r = AgentApi(sara).get(f"/contacts/{contact.code}/export")

    assert r.streaming
    pieces = [len(p) for p in r.streaming_content]
    assert sum(pieces) > 12 * 1024 * 1024
    assert max(pieces) < 512 * 1024
    assert len(pieces) > 150


def test_an_email_contact_gets_the_original_mails(shop):
    org, _anna, sara, _luca, _ch, contact, _code = shop
    mail_channel, _ = do_create_channel(org, "email", "Assistenza", {"address": "help@rossi.example"})
    receive_mail(mail_channel, compose(sender="Mario Bianchi <mario.bianchi@example.net>", to="help@rossi.example"))

    archive = unzip(AgentApi(sara).get(f"/contacts/{contact.code}/export"))

    mails = [n for n in archive.namelist() if n.startswith("mails/")]
    assert len(mails) == 1
    assert b"From: Mario Bianchi <mario.bianchi@example.net>" in archive.read(mails[0])


def test_agents_are_refused_and_other_organisations_see_nothing(shop):
    _org, _anna, _sara, luca, _ch, contact, _code = shop
    stranger = make_agent(make_org("Altra"), "Paolo", role=Role.ADMIN)

    assert AgentApi(luca).get(f"/contacts/{contact.code}/export").status_code == 403
    assert AgentApi(stranger).get(f"/contacts/{contact.code}/export").status_code == 404
    assert logged_in(luca).get(f"/contacts/{contact.code}/export.zip").status_code == 403
    assert logged_in(stranger).get(f"/contacts/{contact.code}/export").status_code == 404


def test_the_contact_page_offers_the_export_to_supervisors_and_the_download_works(shop):
    _org, _anna, sara, luca, _ch, contact, code = shop
    web = logged_in(sara)

    page = web.get(f"/contacts/{contact.code}/").content.decode()
    assert f'href="/contacts/{contact.code}/export"' in page
    assert "erase-link" not in page  # erasure is for admins
    summary = web.get(f"/contacts/{contact.code}/export").content.decode()
    assert "Scarica per il contatto" in summary
    archive = unzip(web.get(f"/contacts/{contact.code}/export.zip"))
    assert f"conversations/{code}.json" in archive.namelist()
    assert "export-link" not in logged_in(luca).get(f"/contacts/{contact.code}/").content.decode()
