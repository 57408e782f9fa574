"""The web chat's later features (issue 11): the page and language shown to the agent,
attachments both ways, the transcript by email, feedback buttons, a phone number."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from adesso.channels.webchat.models import VisitorPage
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation
from tests.builders import make_agent, make_org
from tests.test_webchat import ELSEWHERE, SHOP, Visitor, connect

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run what the code leaves for after commit (the pipeline's task, deliveries)."""

    def run(action: Any, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def post(visitor: Visitor, path: str, body: dict[str, Any]) -> Any:
    return visitor.client.post(
        f"/chat/{visitor.channel.code}/{path}",
        json.dumps(body),
        content_type="application/json",
        headers=visitor._headers(),
    )


def test_the_agent_sees_the_page_the_visitor_is_on_and_their_language(run):
    org = make_org()
    channel, _secret = connect(org)
    giulia = make_agent(org, "Giulia")
    mario = Visitor(channel)
    mario.start()
    first = post(mario, "page", {"url": SHOP + "/torte", "title": "Torte", "language": "it-IT"})
    run(mario.write, "Avete la torta senza glutine?", "e1")
    moved = post(mario, "page", {"url": SHOP + "/torte/sacher?x=1", "title": "Sacher  torte", "language": "it-IT"})

    assert first.status_code == 200 and moved.status_code == 200
    page = VisitorPage.objects.get()  # one row per visitor, updated in place
    assert (page.url, page.title, page.language) == (SHOP + "/torte/sacher?x=1", "Sacher torte", "it-IT")
    agent = Client()
    agent.force_login(giulia)
    html = agent.get(f"/c/{Conversation.objects.get().code}/").content.decode()
    assert f'href="{SHOP}/torte/sacher?x=1"' in html and ">Sacher torte</a>" in html
    assert "it-IT" in html


def test_a_page_of_another_site_or_without_a_token_is_refused_and_nothing_stored():
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()

    other_site = post(mario, "page", {"url": ELSEWHERE + "/phish", "title": "Login"})
    script = post(mario, "page", {"url": "javascript:alert(1)"})
    mario.token = "forged"
    no_token = post(mario, "page", {"url": SHOP + "/torte"})
    mario.origin = ELSEWHERE
    foreign = post(mario, "page", {"url": ELSEWHERE + "/"})

    assert [r.status_code for r in (other_site, script, no_token, foreign)] == [422, 422, 401, 403]
    assert not VisitorPage.objects.exists()


def test_a_visitor_who_never_said_where_they_are_shows_no_page(run):
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()
    run(mario.write, "Ciao", "e1")  # never said where it is: no fact, no error

    from adesso.channels.registry import get_kind

    assert get_kind("webchat").customer_facts(channel, Conversation.objects.get()) == []


# A real 1x1 PNG (a red dot), and a PDF's first bytes.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00"
    b"\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def upload(visitor: Visitor, name: str, content: bytes, echo_id: str = "f1", **fields: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return visitor.client.post(
        f"/chat/{visitor.channel.code}/files",
        {
            "file": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
            "echo_id": echo_id,
            **fields,
        },
        headers=visitor._headers(),
    )


def test_a_visitor_sends_an_image_and_the_agent_a_document_both_reach_the_other(run):
    from adesso.conversations.files import OutgoingFile
    from adesso.conversations.models import Attachment, Message

    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()

    r = run(upload, mario, "torta rotta.png", PNG, text="Guardate com'è arrivata")

    assert r.status_code == 202, r.content
    assert r["Access-Control-Allow-Origin"] == SHOP and r.json()["echo_id"] == "f1"
    message = Message.objects.get(direction="incoming")
    assert message.text == "Guardate com'è arrivata"
    photo = Attachment.objects.get(message=message)
    assert (photo.filename, photo.content_type, photo.size) == ("torta rotta.png", "image/png", len(PNG))
    conversation = message.conversation
    giulia = make_agent(org, "Giulia")
    reply = run(
        do_send_reply,
        giulia,
        conversation,
        "Ecco il buono",
        attachments=[OutgoingFile("buono.pdf", "application/pdf", PDF)],
    )
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"

    listed = mario.read().json()["messages"]
    mine = next(m for m in listed if m["echo_id"] == "f1")
    theirs = next(m for m in listed if m["code"] == reply.code)
    assert [(f["name"], f["type"]) for f in mine["files"]] == [("torta rotta.png", "image/png")]
    assert [(f["name"], f["type"], f["size"]) for f in theirs["files"]] == [("buono.pdf", "application/pdf", len(PDF))]
    # The links work without a token or an Origin (an <img>, a link): images inline,
    # documents downloaded, never run.
    image = Client().get(mine["files"][0]["url"])
    document = Client().get(theirs["files"][0]["url"])
    assert image.status_code == 200 and b"".join(image.streaming_content) == PNG
    assert image["Content-Type"] == "image/png" and image["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert document.status_code == 200 and b"".join(document.streaming_content) == PDF
    assert document["Content-Type"] == "application/octet-stream"
    assert document["Content-Disposition"].startswith("attachment") and "buono.pdf" in document["Content-Disposition"]
    assert document["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_a_file_link_tampered_with_or_of_another_channel_is_not_found(run):
    org = make_org()
    channel, _secret = connect(org)
    other, _ = connect(org)
    mario = Visitor(channel)
    mario.start()
    run(upload, mario, "foto.png", PNG)
    url = mario.read().json()["messages"][0]["files"][0]["url"]
    signed = url.rsplit("/", 1)[1]

    assert Client().get(url).status_code == 200
    assert Client().get(url[:-2] + ("AA" if not url.endswith("AA") else "BB")).status_code == 404
    assert Client().get(f"/chat/{other.code}/files/{signed}").status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("programma.png", b"MZ\x90\x00" + b"\x00" * 64, 415, "attachment_type"),  # a program named as an image
        ("pagina.svg", b"<svg onload=alert(1)>", 415, "attachment_type"),
        ("canzone.mp3", b"ID3\x03" + b"\x00" * 64, 415, "attachment_type"),  # not an image or a document
        ("finta.pdf", PNG, 415, "attachment_type"),  # the name says PDF, the bytes do not
        ("vuoto.txt", b"", 422, "attachment_empty"),
    ],
)
def test_a_refused_file_says_why_and_nothing_is_stored(run, name, content, status, code):
    from adesso.channels.models import InboundEvent
    from adesso.conversations.models import Attachment

    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()

    r = run(upload, mario, name, content)

    assert r.status_code == status, r.content
    assert r.json()["error"] == code and name in r.json()["message"]
    assert r["Access-Control-Allow-Origin"] == SHOP  # the widget can read why
    assert not InboundEvent.objects.exists() and not Attachment.objects.exists()


def test_a_file_over_the_limit_is_refused_with_its_size_and_nothing_is_stored(run, settings):
    from adesso.channels.models import InboundEvent

    settings.ADESSO_MAX_ATTACHMENT_BYTES = 1024
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()

    big = run(upload, mario, "grande.pdf", PDF + b"0" * 2000)
    config = mario.client.get(f"/chat/{channel.code}/config", headers={"Origin": SHOP}).json()
    mario.origin = ELSEWHERE
    foreign = run(upload, mario, "foto.png", PNG)
    mario.origin, mario.token = SHOP, ""
    no_token = run(upload, mario, "foto.png", PNG)

    assert big.status_code == 413 and big.json()["error"] == "attachment_too_large", big.content
    assert (foreign.status_code, no_token.status_code) == (403, 401)
    assert not InboundEvent.objects.exists()
    assert config["max_file"] == 1024 and ".png" in config["accept"].split(",") and ".mp3" not in config["accept"]


@pytest.fixture
def smtp(settings):
    """The site's mail backend pointed at a real SMTP server on loopback."""
    from tests.support.mailservers import start_smtp, stop_smtp

    server = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "assistenza@adesso.example"
    yield server
    stop_smtp(server)


def test_the_visitor_gets_the_transcript_by_email_without_internal_notes(run, smtp):
    from adesso.contacts.models import Contact

    org = make_org()
    channel, _secret = connect(org, company_name="Pasticceria Rossi")
    mario = Visitor(channel)
    mario.start()
    nothing_yet = post(mario, "transcript", {"email": "mario.rossi@example.com"})
    run(mario.write, "Avete la torta senza glutine?", "e1")
    conversation = Conversation.objects.get()
    giulia = make_agent(org, "Giulia Verdi")
    run(do_send_reply, giulia, conversation, "cliente abituale", internal=True)
    run(do_send_reply, giulia, conversation, "Sì, anche senza lattosio.")

    no_address = post(mario, "transcript", {})
    bad = post(mario, "transcript", {"email": "mario@"})
    sent = post(mario, "transcript", {"email": " Mario.Rossi@Example.com ", "language": "it"})

    assert (nothing_yet.status_code, no_address.status_code, bad.status_code) == (409, 422, 422)
    assert no_address.json()["error"] == "no_email" and bad.json()["error"] == "invalid_email"
    assert sent.status_code == 200, sent.content
    assert sent.json() == {"email": "mario.rossi@example.com"}
    (mail,) = smtp.wait_for(1)
    assert mail["To"] == "mario.rossi@example.com"
    assert mail["Subject"] == f"La trascrizione della tua chat con Pasticceria Rossi [#{conversation.code}]"
    assert "Pasticceria Rossi" in mail["From"]
    body = mail.get_content()
    assert "Tu: Avete la torta senza glutine?" in body
    assert "Giulia: Sì, anche senza lattosio." in body
    assert "cliente abituale" not in body
    assert Contact.objects.get(pk=conversation.contact_id).email == "mario.rossi@example.com"

    # Asked again without an address: the one kept; in English when the widget is.
    again = post(mario, "transcript", {"language": "en"})
    assert again.status_code == 200
    second = smtp.wait_for(2)[1]
    assert second["To"] == "mario.rossi@example.com"
    assert second["Subject"].startswith("The transcript of your chat with Pasticceria Rossi")
    assert "You: Avete la torta senza glutine?" in second.get_content()


def test_a_transcript_is_refused_to_a_foreign_origin_and_a_flood(run, smtp):
    org = make_org()
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()
    run(mario.write, "Ciao", "e1")

    answers = [post(mario, "transcript", {"email": "mario@example.com"}).status_code for _ in range(6)]
    mario.origin = ELSEWHERE
    foreign = post(mario, "transcript", {"email": "mario@example.com"})

    assert answers == [200] * 5 + [429] and foreign.status_code == 403
    assert len(smtp.wait_for(5)) == 5


def test_a_resolution_asks_for_feedback_with_buttons_the_score_is_recorded_and_why_is_text(run):
    from adesso.conversations.actions import do_change_status
    from adesso.surveys.models import Survey

    org = make_org("Pasticceria Rossi", surveys=True)
    giulia = make_agent(org, "Giulia")
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()
    run(mario.write, "Avete la torta senza glutine?", "e1")
    conversation = Conversation.objects.get()
    run(do_send_reply, giulia, conversation, "Sì, anche senza lattosio.")
    run(do_change_status, giulia, conversation, "resolved")

    listed = mario.read().json()["messages"]
    question = listed[-1]
    assert question["survey"] == {"kind": "csat", "low": 1, "high": 5, "open": True}
    assert all(m["survey"] is None for m in listed[:-1])
    # The tap on "4" is the visitor's message "4": the surveys' own answer path.
    assert run(mario.write, "4", "e2").status_code == 202
    survey = Survey.objects.get()
    assert (survey.score, survey.state) == (4, "answered")
    later = mario.read().json()["messages"]
    assert next(m for m in later if m["code"] == question["code"])["survey"]["open"] is False
    why = later[-1]
    assert why["auto"] is True and why["survey"] is None and "con parole tue" in why["text"]
    assert run(mario.write, "Gentili e veloci", "e3").status_code == 202
    survey.refresh_from_db()
    assert (survey.state, survey.reason) == ("reasoned", "Gentili e veloci")
    conversation.refresh_from_db()
    assert conversation.status == "resolved"


def test_the_buttons_follow_the_scale_the_organisation_chose(run):
    from adesso.conversations.actions import do_change_status
    from adesso.surveys.models import SurveySettings

    org = make_org("Pasticceria Rossi", surveys=True)
    SurveySettings.objects.update_or_create(organization=org, channel=None, defaults={"kind": "nps"})
    giulia = make_agent(org, "Giulia")
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()
    run(mario.write, "Ciao", "e1")
    conversation = Conversation.objects.get()
    run(do_send_reply, giulia, conversation, "Ciao Mario")
    run(do_change_status, giulia, conversation, "resolved")

    assert mario.read().json()["messages"][-1]["survey"] == {"kind": "nps", "low": 0, "high": 10, "open": True}


def _nobody_online(run: Any) -> tuple[Any, Visitor]:
    org = make_org(ack=True)
    channel, _secret = connect(org)
    mario = Visitor(channel)
    mario.start()
    run(mario.write, "Buongiorno, siete aperti sabato?", "e1")
    return channel, mario


def test_with_nobody_online_the_visitor_may_leave_a_phone_number_instead_of_an_email(run):
    from adesso.contacts.models import ContactIdentity

    _channel, mario = _nobody_online(run)
    note = mario.read().json()["messages"][-1]["offline"]

    r = post(mario, "contact", {"phone": "333 123 4567"})

    assert "oppure un numero di telefono per essere richiamato" in note
    assert r.status_code == 200, r.content
    assert r.json() == {"phone": "+393331234567"}
    contact = Conversation.objects.get().contact
    assert (contact.phone, contact.email) == ("+393331234567", "")
    kinds = ContactIdentity.objects.filter(contact=contact).values_list("kind", flat=True)
    assert sorted(kinds) == ["phone", "webchat"]
    assert ContactIdentity.objects.get(kind="phone").value == "+393331234567"


@pytest.mark.parametrize("bad", ["", "123", "chiamami 3331234567", "+39 333 abc 4567", 3331234567, None, "1" * 40])
def test_a_bad_phone_number_is_422_and_nothing_is_stored(run, bad):
    from adesso.contacts.models import ContactIdentity

    _channel, mario = _nobody_online(run)

    r = post(mario, "contact", {"phone": bad})

    assert r.status_code == 422, r.content
    assert r.json()["error"] == "invalid_phone"
    assert not ContactIdentity.objects.filter(kind="phone").exists()
    assert Conversation.objects.get().contact.phone == ""


def test_a_number_of_another_customer_is_not_merged(run):
    from adesso.contacts.models import Contact, ContactIdentity

    channel, mario = _nobody_online(run)
    luca = Contact.objects.create(organization=channel.organization, name="Luca", phone="+393331234567")
    ContactIdentity.objects.create(organization=channel.organization, contact=luca, kind="phone", value="+393331234567")

    r = post(mario, "contact", {"phone": "+39 333 1234567"})

    assert r.status_code == 200
    assert ContactIdentity.objects.get(kind="phone").contact == luca
    assert Conversation.objects.get().contact.phone == "+393331234567"
