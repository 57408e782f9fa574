"""The web chat widget in Chromium (issue 11): a host page served on another localhost
port (another origin) loads /chat/widget.js; the visitor writes, the agent sees it in
the agent UI and answers, the visitor sees the answer live; a reload keeps it."""

from __future__ import annotations

import http.server
import threading
import time

import pytest
from playwright.sync_api import expect

from adesso.channels.actions import do_create_channel
from adesso.conversations.models import Conversation
from tests.browser.test_agent_ui import log_in
from tests.builders import make_agent, make_org
from tests.support.servers import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def host_site():
    """A company's site: one page carrying the widget's script tag, on its own port."""
    pages: dict[str, str | tuple[str, str]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = pages.get(self.path, "")
            html, csp = found if isinstance(found, tuple) else (found, "")
            body = html.encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if csp:
                self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{port}", pages
    server.shutdown()


def test_a_visitor_and_an_agent_talk_live_and_a_reload_keeps_it(live_server_url, browser, host_site):
    url = live_server_url
    site, pages = host_site
    org = make_org(ack=True)
    giulia = make_agent(org, "Giulia", language="it")
    channel, _token = do_create_channel(
        org,
        "webchat",
        "Chat del sito",
        {"allowed_origins": [site], "company_name": "Pasticceria Rossi", "greeting": "Ciao! Come possiamo aiutarti?"},
    )
    pages["/"] = (
        "<!doctype html><html lang=it><title>Pasticceria</title><h1>Le nostre torte</h1>"
        f'<script src="{url}/chat/widget.js" data-channel="{channel.code}" async></script>'
    )
    visitor = browser.new_context(locale="it-IT").new_page()
    problems: list[str] = []
    visitor.on("pageerror", lambda e: problems.append(str(e)))
    visitor.goto(f"{site}/")

    launcher = visitor.get_by_role("button", name="Apri la chat")
    launcher.click()
    expect(visitor.get_by_role("dialog", name="Chat con Pasticceria Rossi")).to_be_visible()
    expect(visitor.get_by_role("log")).to_contain_text("Ciao! Come possiamo aiutarti?")
    box = visitor.get_by_label("Scrivi un messaggio")
    expect(box).to_be_focused()
    box.fill("Buongiorno, avete la torta senza glutine?")
    box.press("Enter")
    sent = time.monotonic()
    # The acknowledgement with the estimate arrives over the websocket.
    expect(visitor.get_by_role("log")).to_contain_text("ti risponder", timeout=5000)
    ack_seconds = time.monotonic() - sent
    post_ms = visitor.evaluate(
        "Math.max(...performance.getEntriesByType('resource')"
        ".filter(e => e.name.endsWith('/messages') && e.initiatorType === 'fetch').map(e => e.duration))"
    )

    agent = browser.new_context(locale="it-IT").new_page()
    log_in(agent, url, giulia)
    conversation = Conversation.objects.get(channel=channel)
    agent.goto(f"{url}/c/{conversation.code}/")
    expect(agent.locator("#timeline")).to_contain_text("avete la torta senza glutine?")

    agent.fill("#reply-text", "Sì, anche senza lattosio: la prepariamo per sabato.")
    clicked = time.monotonic()
    with agent.expect_response(lambda r: r.url.endswith("/reply") and r.request.method == "POST"):
        agent.click("#reply-button")
    replied = time.monotonic()
    expect(visitor.get_by_role("log")).to_contain_text("anche senza lattosio", timeout=5000)
    reply_seconds, reply_total = time.monotonic() - replied, time.monotonic() - clicked

    visitor.reload()
    visitor.get_by_role("button", name="Apri la chat").click()
    log = visitor.get_by_role("log")
    expect(log).to_contain_text("anche senza lattosio")
    expect(log).to_contain_text("avete la torta senza glutine?")
    assert log.locator("li").count() == 4  # greeting, question, acknowledgement, reply: no duplicates
    assert Conversation.objects.filter(channel=channel).count() == 1
    assert problems == []
    print(
        f"\nweb chat: acknowledgement seen {ack_seconds:.2f} s after Enter (the POST, which runs the worker's"
        f" task inline on this test server, {post_ms / 1000:.2f} s); the reply {reply_total:.2f} s after the"
        f" click, {reply_seconds:.2f} s after its POST answered"
    )
    # What the widget adds beyond the server's own work: the socket's look every 0.5 s.
    assert ack_seconds - post_ms / 1000 < 1.0
    assert reply_seconds < 1.0


def test_an_identified_customer_joins_their_history_and_forgeries_and_strangers_get_nothing(
    live_server_url, browser, host_site
):
    from adesso.channels.models import InboundEvent
    from adesso.channels.webchat.adapter import identifier_hash
    from adesso.contacts.models import Contact, ContactIdentity

    url = live_server_url
    site, pages = host_site
    org = make_org()
    channel, _token = do_create_channel(org, "webchat", "Chat del sito", {"allowed_origins": [site]})
    secret = channel.config["identity_secret"]
    mario = Contact.objects.create(organization=org, name="Mario Rossi", email="mario.rossi@example.com")
    ContactIdentity.objects.create(organization=org, contact=mario, kind="email", value="mario.rossi@example.com")

    def page_with(identifier: str, digest: str, src_channel: str = channel.code) -> str:
        return (
            "<!doctype html><title>Area clienti</title>"
            f'<script src="{url}/chat/widget.js" data-channel="{src_channel}" data-lang="en"'
            f' data-identifier="{identifier}" data-identifier-hash="{digest}" async></script>'
        )

    pages["/forged"] = page_with("mario.rossi@example.com", identifier_hash("guessed", "mario.rossi@example.com"))
    pages["/account"] = page_with("mario.rossi@example.com", identifier_hash(secret, "mario.rossi@example.com"))
    # The same widget on a site the channel does not allow (another origin: 127.0.0.1).
    stranger_site = site.replace("localhost", "127.0.0.1")

    page = browser.new_context().new_page()
    page.goto(f"{site}/forged")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-adesso-chat]").count() == 0  # refused: no window at all
    page.goto(f"{stranger_site}/account")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-adesso-chat]").count() == 0
    assert not InboundEvent.objects.exists()

    page.goto(f"{site}/account")
    page.get_by_role("button", name="Open the chat").click()
    box = page.get_by_label("Write a message")
    box.fill("It's Mario: where is order 1234?")
    box.press("Enter")
    expect(page.get_by_role("log").locator("li.visitor")).to_have_count(1)
    expect(page.get_by_role("log").locator("li.pending")).to_have_count(0)  # the server listed it

    conversation = Conversation.objects.get(channel=channel)
    assert conversation.contact == mario
    assert ContactIdentity.objects.filter(contact=mario, kind="webchat", value="id:mario.rossi@example.com").exists()


def test_the_widget_works_under_a_strict_content_security_policy_of_the_host(live_server_url, browser, host_site):
    """No inline script or style needed: the host allows the Adesso address for scripts and
    connections (and its live port for the socket), nothing more."""
    import httpx

    url = live_server_url
    site, pages = host_site
    org = make_org()
    channel, _token = do_create_channel(org, "webchat", "Chat del sito", {"allowed_origins": [site]})
    live_port = httpx.get(f"{url}/chat/{channel.code}/config", headers={"Origin": site}).json()["live_port"]
    live = f"ws://127.0.0.1:{live_port}" if live_port else url.replace("http", "ws", 1)
    csp = f"default-src 'self'; script-src {url}; connect-src {url} {live}; style-src 'self'; img-src 'self'"
    pages["/csp"] = (
        f'<!doctype html><title>Strict</title><script src="{url}/chat/widget.js" data-channel="{channel.code}"'
        ' data-lang="en" async></script>',
        csp,
    )
    page = browser.new_context().new_page()
    violations: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.goto(f"{site}/csp")

    launcher = page.get_by_role("button", name="Open the chat")
    assert launcher.evaluate("e => getComputedStyle(e).position") == "fixed"  # the styles applied
    launcher.click()
    box = page.get_by_label("Write a message")
    box.fill("Hello from a strict site")
    box.press("Enter")
    expect(page.get_by_role("log").locator("li.visitor")).to_have_count(1)
    expect(page.get_by_role("log").locator("li.pending")).to_have_count(0)
    assert violations == []
