"""The workspace in Chromium (issue 9, acceptance 3): a canned reply inserted with `/`
fills in the contact's name and the coach judges it; the inbox filtered by a tag; two
conversations selected and resolved at once, one reason asked for both."""

import re

import pytest
from playwright.sync_api import expect

from adesso.canned.actions import do_save
from adesso.conversations.models import Conversation, ConversationEvent
from adesso.conversations.tagging import do_tag
from tests.browser.test_agent_ui import inbound, log_in
from tests.builders import make_agent, make_api_channel, make_org

pytestmark = pytest.mark.browser


def test_slash_opens_the_canned_replies_and_choosing_one_fills_in_the_name(live_server_url, page, snap):
    url = live_server_url
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    sara = make_agent(org, "Sara", role="supervisor")
    ch = make_api_channel(org, "Sito web")
    code = inbound(
        url,
        ch,
        sender_id="mario",
        sender={"name": "Mario Bianchi"},
        text="Buongiorno, il frullatore è arrivato rotto. Posso avere un rimborso?",
    )
    do_save(
        sara,
        None,
        shortcut="rimborso",
        title="Rimborso avviato",
        language="it",
        shared=True,
        body="Ciao {contact_first_name}, mi scuso per il disagio: ho già avviato il rimborso, "
        "lo riceverà entro 3 giorni lavorativi. {agent_name}",
    )
    do_save(
        giulia,
        None,
        shortcut="grazie",
        title="Grazie",
        language="it",
        shared=False,
        body="Grazie {contact_first_name}, a presto!",
    )
    do_save(
        sara,
        None,
        shortcut="refund",
        title="Refund started",
        language="en",
        shared=True,
        body="Hi {contact_first_name}, your refund is on its way.",
    )
    log_in(page, url, giulia)
    page.goto(f"{url}/c/{code}/")

    box = page.locator("#reply-text")
    box.click()
    box.press_sequentially("/")
    options = page.locator("#canned-list [role=option]")
    expect(options).to_have_count(3)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(options.first).to_have_attribute("aria-selected", "true")
    snap(page, "canned-replies")
    # Typing filters; the keyboard moves and chooses.
    box.press_sequentially("rim")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("/rimborso")
    expect(options.first).to_contain_text("Ciao Mario, mi scuso")
    box.press("Enter")
    expect(page.locator("#canned-picker")).to_be_hidden()
    expect(box).to_have_value(
        "Ciao Mario, mi scuso per il disagio: ho già avviato il rimborso, lo riceverà entro 3 giorni lavorativi. Giulia"
    )
    # The coach judged the inserted text like typed text: nothing flagged, a score shown.
    expect(page.locator("#coach-findings .coach-clean")).to_be_visible()
    expect(page.locator("#coach-score")).to_contain_text("Score")

    # The mouse too, after some text; Escape closes without inserting.
    box.press("End")
    box.press_sequentially(" /")
    expect(options).to_have_count(3)
    box.press("Escape")
    expect(page.locator("#canned-picker")).to_be_hidden()
    box.press_sequentially("gr")
    expect(page.locator("#canned-picker")).to_be_hidden()
    box.press_sequentially(" /gra")
    options.filter(has_text="/grazie").click()
    expect(box).to_have_value(re.compile(r"Giulia /gr Grazie Mario, a presto!$"))
    assert page.problems == []


def test_the_inbox_filters_by_tag_and_resolves_two_at_once_with_one_reason(live_server_url, page, snap):
    url = live_server_url
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    ch = make_api_channel(org, "Sito web")
    refund = inbound(url, ch, sender_id="mario", sender={"name": "Mario Bianchi"}, text="Rimborso?")
    spam = inbound(url, ch, sender_id="promo", sender={"name": "Offerte Srl"}, text="Compra ora!")
    other = inbound(url, ch, sender_id="anna", sender={"name": "Anna Verdi"}, text="Fattura")
    do_tag(giulia, Conversation.objects.get(code=refund), "rimborso")
    log_in(page, url, giulia)

    rows = page.locator("#inbox-list tbody tr")
    expect(rows).to_have_count(3)
    page.select_option("#tag-filter", "rimborso")
    page.wait_for_url(re.compile(r"tag=rimborso"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Mario Bianchi")
    expect(rows.first.locator(".tag")).to_have_text("rimborso")
    page.select_option("#tag-filter", "")
    expect(rows).to_have_count(3)

    bar = page.locator("#bulk-form")
    expect(bar).to_be_hidden()
    page.locator(f'tr[data-conversation="{spam}"] td.pick input').check()
    page.locator(f'tr[data-conversation="{other}"] td.pick input').check()
    expect(bar).to_be_visible()
    expect(page.locator("#bulk-count")).to_have_text("2")
    # Both customers still wait for an answer: resolving asks one reason for both first.
    page.click("#bulk-resolve")
    reason = page.locator("#bulk-reason-input")
    expect(reason).to_be_visible()
    expect(reason).to_be_focused()
    reason.fill("Pubblicità e doppione: nessuna risposta serve")
    snap(page, "bulk-resolve")
    page.click("#bulk-resolve")
    expect(page.locator(".flash")).to_contain_text("2 conversations resolved.")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Mario Bianchi")
    for code in (spam, other):
        assert Conversation.objects.get(code=code).status == "resolved"
        event = ConversationEvent.objects.get(conversation__code=code, kind="status_changed")
        assert event.data["reason"] == "Pubblicità e doppione: nessuna risposta serve"
    assert Conversation.objects.get(code=refund).status == "open"

    # On a phone the bar wraps: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator(f'tr[data-conversation="{refund}"] td.pick input').check()
    page.click("#bulk-resolve")
    expect(page.locator("#bulk-reason-input")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    snap(page, "bulk-mobile")
    assert page.problems == []


def test_the_selection_survives_a_live_refresh_even_when_resolve_is_clicked_during_the_swap(
    live_server_url, page
):
    url = live_server_url
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    ch = make_api_channel(org, "Sito web")
    spam = inbound(url, ch, sender_id="promo", sender={"name": "Offerte Srl"}, text="Compra ora!")
    other = inbound(url, ch, sender_id="anna", sender={"name": "Anna Verdi"}, text="Fattura")
    log_in(page, url, giulia)
    rows = page.locator("#inbox-list tbody tr")
    expect(rows).to_have_count(2)
    for code in (spam, other):
        page.locator(f'tr[data-conversation="{code}"] td.pick input').check()
    expect(page.locator("#bulk-count")).to_have_text("2")

    # A new customer writes: the list is swapped in live and the two stay picked.
    inbound(url, ch, sender_id="luca", sender={"name": "Luca Neri"}, text="Dov'è il mio ordine?")
    expect(rows).to_have_count(3)
    for code in (spam, other):
        expect(page.locator(f'tr[data-conversation="{code}"] td.pick input')).to_be_checked()
    expect(page.locator("#bulk-count")).to_have_text("2")

    # Resolve pressed right as the next swap lands (before htmx's settle step): the
    # reason is still asked for the two picked ones, and nothing is sent without one.
    page.evaluate("""() => {
        let pressed = false;
        document.addEventListener("htmx:afterSwap", () => {
            if (pressed) return;
            pressed = true;
            document.getElementById("bulk-resolve").click();
        });
        window.htmx.trigger(document.getElementById("inbox-list"), "adesso-refresh");
    }""")
    reason = page.locator("#bulk-reason-input")
    expect(reason).to_be_visible()
    expect(reason).to_be_focused()
    expect(page.locator("#bulk-count")).to_have_text("2")
    assert page.locator(".flash").count() == 0
    for code in (spam, other):
        assert Conversation.objects.get(code=code).status == "open"
    assert page.problems == []
