"""Files on agents' replies: the reply form and POST /conversations/{code}/messages take
them within size and type limits, the channel sends them (email: MIME parts; api: the
webhook's `attachments`), the timeline shows them, and only the organisation reads them."""

import base64
from pathlib import Path

import pytest
from django.core import mail as django_mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from adesso.channels.actions import do_create_channel
from adesso.channels.api.adapter import ApiChannel, webhook_payload
from adesso.conversations.models import Attachment, Message
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org
from tests.support.mailintake import prove_sender, receive_mail

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
EMAIL_FIXTURES = Path(__file__).parent / "fixtures" / "email"


def b64(content):
    return base64.b64encode(content).decode()


def logged_in(agent):
    client = Client()
    client.force_login(agent)
    return client


def test_api_reply_with_files_stores_them_and_the_webhook_carries_them():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    ch = make_api_channel(org)
    code = customer_writes(ch)["conversation"]

    r = giulia.post(
        f"/conversations/{code}/messages",
        {
            "text": "Ecco la ricevuta e la foto.",
            "attachments": [
                {"filename": "ricevuta.pdf", "content_base64": b64(PDF)},
                {"filename": "foto.PNG", "content_base64": b64(PNG)},
            ],
        },
    )

    assert r.status_code == 201, r.content
    files = r.json()["attachments"]
    assert [(f["filename"], f["content_type"], f["size"]) for f in files] == [
        ("ricevuta.pdf", "application/pdf", len(PDF)),
        ("foto.PNG", "image/png", len(PNG)),
    ]
    message = Message.objects.get(code=r.json()["code"])
    payload = webhook_payload(ch.channel, message)
    assert [(a["filename"], base64.b64decode(a["content_base64"])) for a in payload["attachments"]] == [
        ("ricevuta.pdf", PDF),
        ("foto.PNG", PNG),
    ]
    # The agents of the organisation read the file; nobody else does.
    url = files[0]["url"]
    assert b"".join(logged_in(giulia.agent).get(url).streaming_content) == PDF
    assert logged_in(make_agent(make_org("Altra"), "Luca")).get(url).status_code == 404


def test_a_reply_of_files_only_needs_no_text_and_its_preview_names_them():
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    code = customer_writes(make_api_channel(org))["conversation"]
    client = logged_in(giulia)

    r = client.post(
        f"/c/{code}/reply",
        {"text": "", "internal": "0", "files": [SimpleUploadedFile("ricevuta.pdf", PDF, "application/pdf")]},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    message = Message.objects.get(conversation__code=code, direction="outgoing")
    assert message.conversation.last_message_preview == "ricevuta.pdf"
    assert message.conversation.waiting_since is None
    page = client.get(f"/c/{code}/").content.decode()
    attachment = message.attachments.get()
    assert f'href="/attachments/{attachment.code}"' in page and "ricevuta.pdf" in page
    assert 'enctype="multipart/form-data"' in page and 'name="files"' in page


@pytest.mark.parametrize(
    ("filename", "content", "error"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "attachment_type"),
        ("fattura.pdf", b"MZ\x90\x00" + b"\x00" * 60, "attachment_type"),  # a program named as a PDF
        ("script.sh", b"#!/bin/sh\nrm -rf /\n", "attachment_type"),
        ("note.txt", b"#!/usr/bin/env python\n", "attachment_type"),
        ("pagina.html", b"<script>alert(1)</script>", "attachment_type"),
        ("disegno.svg", b"<svg onload='alert(1)'/>", "attachment_type"),
        ("foto.png", b"GIF89a not a png", "attachment_type"),
        ("senza-estensione", b"hello", "attachment_type"),
    ],
)
def test_programs_pages_and_mislabelled_files_are_refused(filename, content, error):
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    code = customer_writes(make_api_channel(org))["conversation"]

    r = giulia.post(
        f"/conversations/{code}/messages",
        {"text": "Ecco", "attachments": [{"filename": filename, "content_base64": b64(content)}]},
    )

    assert r.status_code == 400, r.content
    assert r.json()["error"] == error
    assert not Message.objects.filter(conversation__code=code, direction="outgoing").exists()
    assert not Attachment.objects.exists()


def test_size_and_count_limits_give_a_clear_400(settings):
    settings.ADESSO_MAX_ATTACHMENT_BYTES = 1000
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    api = AgentApi(giulia)
    code = customer_writes(make_api_channel(org))["conversation"]
    big = PNG + b"\x00" * 1000

    r = api.post(
        f"/conversations/{code}/messages",
        {"text": "Ecco", "attachments": [{"filename": "foto.png", "content_base64": b64(big)}]},
    )
    assert r.status_code == 400
    assert r.json() == {
        "error": "attachment_too_large",
        "message": "foto.png is 1.0\xa0KB: the limit is 1000\xa0bytes per file.",
    }
    r = api.post(
        f"/conversations/{code}/messages",
        {"text": "Ecco", "attachments": [{"filename": f"f{n}.png", "content_base64": b64(PNG)} for n in range(11)]},
    )
    assert r.status_code == 422
    r = api.post(
        f"/conversations/{code}/messages",
        {"text": "Ecco", "attachments": [{"filename": "f.png", "content_base64": "non base64!"}]},
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_attachment")

    # The form says the same, keeps the draft, and sends nothing.
    r = logged_in(giulia).post(
        f"/c/{code}/reply",
        {"text": "La foto", "internal": "0", "files": [SimpleUploadedFile("foto.png", big, "image/png")]},
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "foto.png is 1.0\xa0KB: the limit is 1000\xa0bytes per file." in html
    assert ">La foto</textarea>" in html
    assert not Message.objects.filter(conversation__code=code, direction="outgoing").exists()


def test_a_channel_that_cannot_send_files_refuses_them_but_a_note_keeps_them(monkeypatch):
    monkeypatch.setattr(ApiChannel, "supports_attachments", False)
    org = make_org()
    api = AgentApi(make_agent(org, "Giulia"))
    code = customer_writes(make_api_channel(org))["conversation"]
    files = [{"filename": "foto.png", "content_base64": b64(PNG)}]

    r = api.post(f"/conversations/{code}/messages", {"text": "Ecco", "attachments": files})
    assert (r.status_code, r.json()["error"]) == (400, "attachments_unsupported")
    r = api.post(
        f"/conversations/{code}/messages", {"text": "Foto del cliente", "internal": True, "attachments": files}
    )
    assert r.status_code == 201
    assert r.json()["attachments"][0]["filename"] == "foto.png"


def test_email_sends_the_files_as_mime_parts(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org = make_org()
    channel, _ = do_create_channel(org, "email", "Assistenza", {"address": "help@shop.example"})
    prove_sender(channel)  # it sends through the shared backend
    received = receive_mail(channel, (EMAIL_FIXTURES / "gmail_reply_it.eml").read_bytes()).received
    api = AgentApi(make_agent(org, "Giulia"))

    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(
            f"/conversations/{received.conversation.code}/messages",
            {
                "text": "In allegato la ricevuta.",
                "attachments": [{"filename": "ricevuta.pdf", "content_base64": b64(PDF)}],
            },
        )
    assert r.status_code == 201, r.content

    (sent,) = django_mail.outbox
    assert sent.body == "In allegato la ricevuta."
    assert [(name, content, mimetype) for name, content, mimetype in sent.attachments] == [
        ("ricevuta.pdf", PDF, "application/pdf")
    ]
    assert Message.objects.get(code=r.json()["code"]).delivery_status == "sent"
