"""The web chat's files and the visitor's page in Chromium (issue 11): on a host page of
another origin, the visitor sends an image, the agent sees it in the agent UI (with the
page the visitor is on in the sidebar); the agent sends a document, the visitor gets a
link to it; a refused file is explained in the widget and nothing is stored."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from adesso.channels.actions import do_create_channel
from adesso.channels.models import InboundEvent
from adesso.conversations.models import Attachment, Conversation
from tests.browser.test_agent_ui import log_in
from tests.browser.test_webchat_widget import host_site  # noqa: F401 (a fixture)
from tests.builders import make_agent, make_org
from tests.test_webchat_features import PDF, PNG

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server on loopback, the web process's mail server (set before it starts)."""
    from tests.support.mailservers import start_smtp, stop_smtp

    server = start_smtp()
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(server.port))
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    yield server
    stop_smtp(server)


def test_a_visitor_sends_an_image_and_the_agent_a_document(
    smtp,
    live_server_url,
    browser,
    host_site,  # noqa: F811
    tmp_path,
):
    url = live_server_url
    site, pages = host_site
    org = make_org()
    giulia = make_agent(org, "Giulia", language="it")
    channel, _token = do_create_channel(
        org, "webchat", "Chat del sito", {"allowed_origins": [site], "company_name": "Pasticceria Rossi"}
    )
    pages["/torte"] = (
        "<!doctype html><html lang=it><title>Torte su ordinazione</title><h1>Torte</h1>"
        f'<script src="{url}/chat/widget.js" data-channel="{channel.code}" async></script>'
    )
    (tmp_path / "torta.png").write_bytes(PNG)
    (tmp_path / "programma.png").write_bytes(b"MZ" + b"\x00" * 64)
    (tmp_path / "ricevuta.pdf").write_bytes(PDF)

    visitor = browser.new_context(locale="it-IT").new_page()
    problems: list[str] = []
    visitor.on("pageerror", lambda e: problems.append(str(e)))
    visitor.goto(f"{site}/torte")
    visitor.get_by_role("button", name="Apri la chat").click()
    expect(visitor.get_by_role("button", name="Allega un'immagine o un documento")).to_be_visible()
    file_input = visitor.locator("[data-adesso-chat] input[type=file]")

    # A program named as an image: the server refuses it, the widget says why.
    file_input.set_input_files(str(tmp_path / "programma.png"))
    expect(visitor.get_by_role("status").filter(has_text="immagini e documenti")).to_be_visible()
    assert not InboundEvent.objects.exists()

    file_input.set_input_files(str(tmp_path / "torta.png"))
    log = visitor.get_by_role("log")
    # Listed by the server: the pending bubble becomes the image as stored.
    expect(log.locator("li.visitor img[alt='torta.png']")).to_be_visible(timeout=5000)
    assert log.locator("li.visitor img").evaluate("i => i.naturalWidth") == 1

    agent = browser.new_context(locale="it-IT").new_page()
    log_in(agent, url, giulia)
    conversation = Conversation.objects.get(channel=channel)
    agent.goto(f"{url}/c/{conversation.code}/")
    expect(agent.locator("#timeline")).to_contain_text("torta.png")
    link = agent.locator("#timeline a", has_text="torta.png")
    shown = agent.request.get(url + link.get_attribute("href"))
    assert shown.status == 200 and shown.body() == PNG
    # The sidebar: the page the visitor is on, and their browser's language.
    expect(agent.locator(".customer-fact a")).to_have_text("Torte su ordinazione")
    expect(agent.locator(".conv-side")).to_contain_text("it-IT")

    agent.locator("#reply-files").set_input_files(str(tmp_path / "ricevuta.pdf"))
    agent.fill("#reply-text", "Ecco la ricevuta")
    with agent.expect_response(lambda r: r.url.endswith("/reply") and r.request.method == "POST"):
        agent.click("#reply-button")

    document = log.locator("li.agent a", has_text="ricevuta.pdf")
    expect(document).to_be_visible(timeout=5000)
    expect(log).to_contain_text("Ecco la ricevuta")
    fetched = httpx.get(document.get_attribute("href"))
    assert fetched.status_code == 200 and fetched.content == PDF
    assert Attachment.objects.count() == 2

    # At the end, the transcript by email (the address typed in the widget).
    visitor.get_by_role("button", name="Ricevi la trascrizione via email").click()
    address = visitor.get_by_role("form", name="Ricevi la trascrizione via email").get_by_label("La tua email")
    expect(address).to_be_focused()
    address.fill("mario.rossi@example.com")
    address.press("Enter")
    sent_note = visitor.get_by_role("status").filter(has_text="Trascrizione inviata a mario.rossi@example.com")
    expect(sent_note).to_be_visible()
    (sent,) = smtp.wait_for(1)
    assert sent["To"] == "mario.rossi@example.com"
    assert "Giulia: Ecco la ricevuta [allegato: ricevuta.pdf]" in sent.get_content()
    assert problems == []


def test_the_resolution_asks_for_feedback_with_buttons_in_the_widget(live_server_url, browser, host_site):  # noqa: F811
    from adesso.conversations.actions import do_change_status, do_send_reply
    from adesso.surveys.models import Survey

    url = live_server_url
    site, pages = host_site
    org = make_org("Pasticceria Rossi", surveys=True)
    giulia = make_agent(org, "Giulia")
    channel, _token = do_create_channel(org, "webchat", "Chat del sito", {"allowed_origins": [site]})
    pages["/"] = (
        "<!doctype html><title>Pasticceria</title>"
        f'<script src="{url}/chat/widget.js" data-channel="{channel.code}" data-lang="en" async></script>'
    )
    visitor = browser.new_context().new_page()
    visitor.goto(f"{site}/")
    visitor.get_by_role("button", name="Open the chat").click()
    box = visitor.get_by_label("Write a message")
    box.fill("Do you make gluten-free cakes?")
    box.press("Enter")
    log = visitor.get_by_role("log")
    expect(log.locator("li.pending")).to_have_count(0, timeout=5000)
    conversation = Conversation.objects.get(channel=channel)
    do_send_reply(giulia, conversation, "Yes, lactose-free too.")
    do_change_status(giulia, conversation, "resolved")

    scores = visitor.get_by_role("group", name="Your score")
    expect(scores.get_by_role("button")).to_have_count(5, timeout=5000)
    scores.get_by_role("button", name="4 out of 5").click()
    expect(scores).to_have_count(0)  # answered: the buttons go
    expect(log).to_contain_text("in your own words", timeout=5000)
    survey = Survey.objects.get()
    assert (survey.score, survey.state) == (4, "answered")
