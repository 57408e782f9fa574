"""The agent UI in Chromium against the real ASGI server: live inbox, reply, transfer,
resolve; and the Italian UI."""

import datetime as dt
import re
import time

import httpx
import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from adesso.accounts.models import User
from adesso.conversations.actions import do_assign, do_change_status, do_send_reply, do_set_priority
from adesso.conversations.models import Conversation
from tests.builders import (
    inbound_payload,
    make_agent,
    make_api_channel,
    make_org,
    make_team,
    receive_inbound,
)
from tests.test_front_i18n import english_fragments, english_in

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def log_in(page, url, agent):
    page.goto(f"{url}/login/")
    page.fill("#id_username", agent.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    # The websocket is open: from here on, events reach the page.
    expect(page.locator("#live-status")).to_have_class(re.compile("is-live"))


def inbound(url, ch, **payload):
    """A customer's message posted to the live server; its conversation once processed
    (the test server runs the task queue inline: the worker has run when 202 comes back)."""
    headers = {"Authorization": f"Bearer {ch.token}"}
    r = httpx.post(f"{url}{ch.url}", json=inbound_payload(**payload), headers=headers)
    assert r.status_code == 202, r.text
    status = httpx.get(f"{url}{ch.url}/events/{r.json()['event']}", headers=headers).json()
    assert status["state"] == "processed", status
    return status["conversation"]


def test_new_message_live_then_reply_transfer_and_resolve(live_server_url, page):
    url = live_server_url
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    marco = make_agent(org, "Marco", language="en")
    ch = make_api_channel(org, "Sito web")
    log_in(page, url, giulia)
    expect(page.locator("#inbox-list")).to_contain_text("No conversations here.")
    page.evaluate("window.notReloaded = true")

    started = time.monotonic()
    code = inbound(url, ch, sender_id="mario", text="Il mio ordine 1234 non è ancora arrivato")
    row = page.locator(f'tr[data-conversation="{code}"]')
    row.wait_for(timeout=2000)
    elapsed = time.monotonic() - started
    print(f"new message visible after {elapsed:.2f}s")
    assert elapsed < 2.0, f"the new message took {elapsed:.2f}s to appear"
    assert page.evaluate("window.notReloaded") is True  # no reload: the list was swapped in
    expect(row).to_contain_text("Mario Bianchi")
    expect(row).to_contain_text("Il mio ordine 1234 non è ancora arrivato")
    expect(row).to_contain_text("Unassigned")
    expect(page.locator('#inbox-tabs a[href*="tab=unassigned"] .count')).to_have_text("1")

    row.locator("td.who a").click()
    page.wait_for_url(f"{url}/c/{code}/")
    expect(page.locator("#timeline")).to_contain_text("Il mio ordine 1234")
    # The customer writes again while the agent looks: the timeline updates by itself.
    page.evaluate("window.notReloaded = true")
    inbound(url, ch, sender_id="mario", text="Avete notizie?")
    expect(page.locator("#timeline")).to_contain_text("Avete notizie?", timeout=2000)
    assert page.evaluate("window.notReloaded") is True

    page.fill("#reply-text", "Ci scusi per l'attesa: verifico subito con il corriere.")
    page.click("#reply-button")
    expect(page.locator(".msg-outgoing").last).to_contain_text("verifico subito con il corriere")
    expect(page.locator("#current-assignee")).to_have_text("Giulia")

    # A transfer without a handover note is refused, with the reason shown.
    page.select_option("#assignee", marco.code)
    page.click("#assign-form button[type=submit]")
    expect(page.locator("#assign-form .error")).to_contain_text("needs a handover note")
    expect(page.locator("#current-assignee")).to_have_text("Giulia")
    assert [p for p in page.problems if "status of 400" not in p] == []  # the refusal is a 400
    page.problems.clear()
    page.select_option("#assignee", marco.code)
    page.fill("#note", "Ordine 1234: il corriere dice consegna domani. Richiamare se non arriva.")
    page.click("#assign-form button[type=submit]")
    expect(page.locator("#handover-note")).to_contain_text("il corriere dice consegna domani")
    expect(page.locator("#current-assignee")).to_have_text("Marco")
    expect(page.locator("#timeline")).to_contain_text("transferred the conversation from Giulia to Marco")

    page.click("button[name=status][value=resolved]")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "resolved")
    expect(page.locator("button[name=status][value=open]")).to_be_visible()

    conversation = Conversation.objects.get(code=code)
    assert (conversation.status, conversation.assignee) == ("resolved", marco)
    assert conversation.messages.filter(direction="outgoing").count() == 1
    assert page.problems == []


def test_italian_agent_sees_italian(live_server_url, page):
    url = live_server_url
    org = make_org()
    anna = make_agent(org, "Anna", language="it")
    ch = make_api_channel(org, "WhatsApp")
    code = inbound(url, ch, sender_id="lucia", text="Buongiorno, vorrei un rimborso",
                   sender={"name": "Lucia Ferri", "email": "lucia@example.com"})
    fragments = english_fragments()
    log_in(page, url, anna)
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.locator("nav.topbar")).to_contain_text("In arrivo")
    expect(page.locator("nav.topbar")).to_contain_text("Contatti")
    expect(page.locator("#live-status")).to_have_text("In tempo reale")
    expect(page.locator("#inbox-list")).to_contain_text("In attesa da")
    expect(page.locator("#inbox-list")).to_contain_text("Non assegnata")
    assert english_in(page.content(), fragments) == []

    page.click(f'tr[data-conversation="{code}"] td.who a')
    expect(page.locator("#reply-button")).to_have_text("Rispondi")
    expect(page.locator("button[name=status][value=resolved]")).to_have_text("Risolvi")
    expect(page.locator(".conv-side")).to_contain_text("Posticipa")
    expect(page.locator(".conv-side")).to_contain_text("Nota di passaggio di consegne")
    assert english_in(page.content(), fragments) == []

    page.click(".conv-side a[href^='/contacts/']")
    expect(page.locator("h1")).to_contain_text("Lucia Ferri")
    expect(page.locator(".contact-side")).to_contain_text("Indirizzi")
    assert english_in(page.content(), fragments) == []

    # Switching to English is stored on the agent and applies at once.
    page.click("form.lang button[value=en]")
    expect(page.locator("nav.topbar")).to_contain_text("Contacts")
    anna.refresh_from_db()
    assert anna.language == "en"
    assert page.problems == []


def busy_shop():
    """A morning at a shop: a dozen waiting customers, one known on three channels."""
    org = make_org("Pasticceria Rossi")
    giulia = make_agent(org, "Giulia", language="en")
    marco = make_agent(org, "Marco", language="it")
    User.objects.filter(pk=giulia.pk).update(name="Giulia Conti")
    User.objects.filter(pk=marco.pk).update(name="Marco Esposito")
    make_team(org, "Ordini", [giulia, marco])
    web, wa, mail = (make_api_channel(org, n) for n in ("Sito web", "WhatsApp", "Email"))
    client = Client()

    def receive(ch, sender, text, **extra):
        body = receive_inbound(client, ch, inbound_payload(sender_id=sender, text=text, sender=extra))
        return Conversation.objects.get(code=body["conversation"])

    people = [
        ("Lucia Ferri", "Buongiorno, vorrei sapere se la torta per sabato è confermata.", 4),
        ("Paolo Greco", "Il pacco è arrivato con la scatola schiacciata, cosa posso fare?", 95),
        ("Sara Romano", "Avete ancora i panettoni al pistacchio?", 18),
        ("Davide Marino", "Non riesco a pagare con la carta sul sito, mi dà errore.", 47),
        ("Elena Costa", "Posso ritirare in negozio invece della consegna?", 2),
        ("Giorgio Ricci", "Ho ordinato per errore due volte, potete annullarne uno?", 260),
    ]
    now = timezone.now()
    for i, (name, text, minutes) in enumerate(people):
        c = receive((web, wa, mail)[i % 3], f"p{i}", text, name=name)
        Conversation.objects.filter(pk=c.pk).update(waiting_since=now - dt.timedelta(minutes=minutes))
        if i % 3 == 1:
            do_assign(giulia, c, marco)
    first = receive(mail, "mario-mail", "Buongiorno, il mio ordine 1234 non è arrivato.",
                    name="Mario Bianchi", email="mario@example.com")
    do_send_reply(giulia, first, "Ci scusi, verifico subito con il corriere e le scrivo entro un'ora.")
    do_change_status(giulia, first, "resolved")
    c = receive(wa, "mario-wa", "Salve, vi scrivo qui: il pacco ancora non si vede.",
                name="Mario Bianchi", email="mario@example.com", phone="333 123 4567")
    do_set_priority(giulia, c, 3)
    do_send_reply(giulia, c, "Il corriere conferma consegna domani mattina", internal=True)
    do_assign(giulia, c, giulia)
    do_assign(giulia, c, marco, note="Secondo contatto per l'ordine 1234: il corriere consegna "
                                     "domani mattina. Se non arriva, rimborso completo.")
    receive(web, "mario-web", "Ciao, sono Mario Bianchi", name="M. Bianchi", email="mario@example.com")
    Conversation.objects.filter(pk=c.pk).update(waiting_since=now - dt.timedelta(minutes=12))
    return giulia, marco, c


@pytest.mark.parametrize("language", ["en", "it"])
def test_pages_fit_the_screen_without_errors(live_server_url, page, snap, language):
    giulia, marco, conversation = busy_shop()
    agent = giulia if language == "en" else marco
    log_in(page, live_server_url, agent)
    pages = [("inbox", "/"), ("conversation", f"/c/{conversation.code}/"),
             ("contact", f"/contacts/{conversation.contact.code}/"), ("search", "/search?q=ordine")]
    for name, path in pages:
        page.goto(f"{live_server_url}{path}")
        expect(page.locator("#live-status")).to_have_class(re.compile("is-live"))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the window"
        if name != "search":
            snap(page, f"{name}-{language}")
    assert page.problems == []
