"""Every page an admin reaches, on a phone (390 px), with the demo's four weeks of data:
nothing is wider than the screen (a wide table scrolls inside its own box)."""

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from adesso.contacts.models import Contact
from adesso.conversations.models import Conversation

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_no_page_is_wider_than_a_phone(live_server_url, browser):
    out = StringIO()
    call_command("seeddemo", stdout=out)
    password = next(line.split(" ")[1] for line in out.getvalue().splitlines()
                    if line.startswith("admin@dolcevita.example "))
    context = browser.new_context(viewport=PHONE, locale="it-IT")
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(f"{live_server_url}/login/")
    page.fill("#id_username", "admin@dolcevita.example")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server_url}/")
    # Every page of the menu, and the pages behind a row: a conversation, a contact.
    paths = page.eval_on_selector_all(
        "nav.topbar a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
    )
    assert len(paths) >= 10, paths
    conversation = Conversation.objects.filter(status="open").first()
    contact = Contact.objects.first()
    assert conversation is not None and contact is not None
    paths += [
        f"/c/{conversation.code}/", f"/contacts/{contact.code}/", "/reports/digest", "/insights/processes",
        "/settings/surveys", "/coach/rules", "/notifications", "/search?q=torta", "/planner/",
    ]
    wide = {}
    for path in dict.fromkeys(paths):
        response = page.goto(f"{live_server_url}{path}")
        assert response is not None and response.ok, path
        expect(page.locator("body")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[path] = width
    assert wide == {}
    assert problems == []
    context.close()
