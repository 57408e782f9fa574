"""The reply coach in Chromium (issue 5, acceptance 3): typing "Questa è la nostra policy"
highlights it within a second with the reason; sending asks for confirmation; one click
applies the rewrite."""

import time

import pytest
from playwright.sync_api import expect

from adesso.coach.models import CoachDismissal, CoachRecord
from adesso.contacts.models import Contact
from adesso.conversations.models import Message
from tests.browser.test_agent_ui import inbound, log_in
from tests.builders import make_agent, make_api_channel, make_org

pytestmark = pytest.mark.browser


def wait_for(condition, seconds=3.0):
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_typing_highlights_with_the_reason_and_sending_asks_for_confirmation(live_server_url, page, snap):
    url = live_server_url
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    ch = make_api_channel(org, "Sito web")
    code = inbound(url, ch, sender_id="mario",
                   text="Buongiorno, il frullatore è arrivato rotto. Posso avere un rimborso?")
    Contact.objects.filter(conversations__code=code).update(tier="loyal")
    log_in(page, url, giulia)
    page.goto(f"{url}/c/{code}/")

    box = page.locator("#reply-text")
    box.click()
    started = time.monotonic()
    box.press_sequentially("Questa è la nostra policy", delay=15)
    typed = time.monotonic()
    mark = page.locator("#coach-mirror mark.coach-serious")
    expect(mark).to_have_text("Questa è la nostra policy", timeout=1000)
    shown = time.monotonic() - typed
    print(f"highlighted {shown:.2f}s after the last key ({time.monotonic() - started:.2f}s in all)")
    assert shown < 1.0
    finding = page.locator('#coach-findings li[data-pattern="policy"]')
    expect(finding).to_contain_text("Hiding behind policy")
    expect(finding).to_contain_text("tells the customer their problem is not ours")
    expect(finding).to_contain_text("Vediamo subito cosa posso fare per lei")

    # Sending: the coach asks first, and "Edit the reply" keeps the draft.
    page.click("#reply-button")
    dialog = page.locator("#coach-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Send this reply as it is?")
    expect(dialog).to_contain_text("Questa è la nostra policy")
    snap(page, "coach-confirm")
    page.click("#coach-edit")
    expect(dialog).to_be_hidden()
    assert not Message.objects.filter(conversation__code=code, direction="outgoing").exists()

    # The rewrite, in one click; then more text, for the screenshot of a working draft.
    finding.locator(".coach-apply").click()
    expect(box).to_have_value("Vediamo subito cosa posso fare per lei")
    expect(page.locator("#coach-mirror mark.coach-serious")).to_have_count(0)
    box.press("End")
    box.press_sequentially(". Il corriere ha perso il pacco, ho un'altra chiamata.", delay=5)
    expect(page.locator('#coach-findings li[data-pattern="busy"]')).to_be_visible()
    expect(page.locator("#coach-mirror mark.coach-serious")).to_have_count(2)
    page.locator(".reply").scroll_into_view_if_needed()
    snap(page, "coach")  # ADESSO_SCREENSHOTS=docs/screenshots: the picture in docs/coach.md

    # One click: "busy" does not apply here. Hidden at once, recorded per rule.
    page.locator('#coach-findings li[data-pattern="busy"] .coach-dismiss').click()
    expect(page.locator('#coach-findings li[data-pattern="busy"]')).to_have_count(0)
    expect(page.locator("#coach-mirror mark.coach-serious")).to_have_count(1)
    wait_for(lambda: CoachDismissal.objects.filter(pattern="busy", agent=giulia).exists())

    # Send anyway: the reply goes, and its coaching is recorded.
    page.click("#reply-button")
    expect(dialog).to_be_visible()
    page.click("#coach-send-anyway")
    expect(page.locator("#timeline")).to_contain_text("ho un'altra chiamata", timeout=3000)
    assert page.problems == []
    record = CoachRecord.objects.get()
    assert record.confirmed and set(record.findings.values_list("pattern", flat=True)) >= {"busy"}


def test_supervisors_see_coaching_statistics_with_charts(live_server_url, page, snap):
    import datetime as dt

    from django.utils import timezone

    from adesso.accounts.models import Role
    from adesso.coach.actions import do_record_coaching
    from adesso.coach.engine import coach
    from adesso.conversations.actions import do_send_reply
    from tests.builders import make_team

    url = live_server_url
    org = make_org()
    giulia = make_agent(org, "Giulia", language="en")
    marco = make_agent(org, "Marco", language="en")
    make_team(org, "Ordini", [giulia, marco])
    sara = make_agent(org, "Sara", role=Role.SUPERVISOR, language="en")
    ch = make_api_channel(org, "Sito web")
    code = inbound(url, ch, sender_id="mario", text="Il pacco non è arrivato")
    conversation = Message.objects.filter(conversation__code=code).first().conversation
    drafts = ["Questa è la nostra policy.", "Sto facendo del mio meglio.", "Il ritardo è colpa del corriere.",
              "Le scrivo entro le 17 con il nuovo codice.", "Ci sono molte altre persone prima di lei."]
    for week in range(6):
        for i, (agent, text) in enumerate([(giulia, drafts[(week + j) % 5]) for j in range(4 - week % 3)]
                                          + [(marco, drafts[3])] * 3):
            message = do_send_reply(agent, conversation, text)
            record = do_record_coaching(agent, message, coach(text), confirmed=True)
            when = timezone.now() - dt.timedelta(days=7 * week + i % 3)
            record.findings.update(created_at=when)
            type(record).objects.filter(pk=record.pk).update(created_at=when)

    log_in(page, url, sara)
    page.click("text=Coaching")
    page.wait_for_url(f"{url}/coach/")
    expect(page.locator("h1")).to_contain_text("Coaching")
    expect(page.locator("figure.chart")).to_have_count(2)
    expect(page.locator("table.report-table").first).to_contain_text("Giulia")
    expect(page.locator("#coach-dismissals")).to_contain_text("No finding dismissed in this period.")
    snap(page, "coach-stats")
    page.select_option("#coach-agent", giulia.code)
    page.click("text=Show")
    expect(page.locator("h1")).to_contain_text("Giulia")
    assert page.problems == []
