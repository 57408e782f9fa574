"""The web chat widget's accessibility (issue 11): axe-core, the engine browsers' own
audits use, run in Chromium on the host page of another origin, reaching into the
widget's shadow root, in each state a visitor meets (launcher only, window open,
a conversation, the email form with nobody online); and the widget driven with the
keyboard alone. axe-core's script comes from the axe-playwright-python wheel (pinned
in requirements.lock): nothing is fetched while the tests run."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page, expect

from adesso.accounts.models import Presence
from adesso.channels.actions import do_create_channel
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation
from tests.browser.test_webchat_widget import host_site  # noqa: F401 (a fixture)
from tests.builders import make_agent, make_org

pytestmark = pytest.mark.browser

WIDGET = "[data-adesso-chat]"
# WCAG 2.0/2.1/2.2 A and AA, and axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe(page: Page) -> dict[str, Any]:
    """axe-core's results inside the widget (its host element and shadow root)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate(
        "([ctx, opts]) => axe.run(ctx, opts)",
        [{"include": [[WIDGET]]}, {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}],
    )
    assert results["testEngine"]["name"] == "axe-core"
    return results


def serious(results: dict[str, Any]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def widget_page(url: str, site: str, pages: dict, channel_code: str, path: str = "/", extra: str = "") -> str:
    pages[path] = (
        "<!doctype html><html lang=en><title>Rossi bakery</title><main><h1>Our cakes</h1>"
        '<p><a href="/menu">The menu</a></p></main>'
        f'<script src="{url}/chat/widget.js" data-channel="{channel_code}" data-lang="en"{extra} async></script>'
    )
    return f"{site}{path}"


def test_axe_finds_no_serious_violation_in_any_state_of_the_widget(live_server_url, browser, host_site, settings):  # noqa: F811
    url = live_server_url
    site, pages = host_site
    org = make_org(ack=True)
    giulia = make_agent(org, "Giulia Verdi", language="en")  # not online: the email form appears
    channel, _token = do_create_channel(
        org, "webchat", "Chat", {"allowed_origins": [site], "company_name": "Rossi bakery"}
    )
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(widget_page(url, site, pages, channel.code))

    launcher = page.get_by_role("button", name="Open the chat")
    expect(launcher).to_be_visible()
    closed = axe(page)
    assert serious(closed) == []

    launcher.click()
    expect(page.get_by_role("dialog", name="Chat with Rossi bakery")).to_be_visible()
    opened = axe(page)
    assert serious(opened) == []
    # axe looked inside the shadow root: the label rule passed on the textarea there
    # (a target in a shadow root is the host's selector, then the selector inside).
    labelled = [n["target"] for r in opened["passes"] if r["id"] == "label" for n in r["nodes"]]
    assert labelled == [[[f'div[data-adesso-chat="{channel.code}"]', "#adesso-text"]]]

    box = page.get_by_label("Write a message")
    box.fill("Good morning, do you have a gluten free cake for Saturday?")
    box.press("Enter")
    log = page.get_by_role("log")
    expect(log).to_contain_text("Nobody from our team is online right now", timeout=5000)
    email = page.get_by_label("Your email")
    expect(email).to_be_visible()
    assert serious(axe(page)) == []

    email.fill("mario@example")
    email.press("Enter")
    expect(page.get_by_text("This email address does not look right")).to_be_visible()
    assert serious(axe(page)) == []

    giulia.presence = Presence.ONLINE
    giulia.save(update_fields=["presence"])
    conversation = Conversation.objects.get(channel=channel)
    do_send_reply(giulia, conversation, "Yes, and without lactose too: we can make it for Saturday.")
    expect(log).to_contain_text("without lactose too", timeout=5000)
    expect(log.locator("li.pending")).to_have_count(0)
    assert serious(axe(page)) == []


def test_a_light_company_colour_keeps_its_text_readable(live_server_url, browser, host_site):  # noqa: F811
    """The company's colour is the launcher's, the header's and the visitor's bubbles':
    a light one gets dark text, so the contrast holds whatever the brand."""
    url = live_server_url
    site, pages = host_site
    org = make_org(ack=False)
    channel, _token = do_create_channel(
        org, "webchat", "Chat", {"allowed_origins": [site], "company_name": "Limoni", "colour": "#ffd43b"}
    )
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(widget_page(url, site, pages, channel.code))
    page.get_by_role("button", name="Open the chat").click()
    box = page.get_by_label("Write a message")
    box.fill("Is the lemon cake ready?")
    box.press("Enter")
    log = page.get_by_role("log")
    expect(log.locator("li.visitor")).to_have_count(1)
    expect(log.locator("li.pending")).to_have_count(0)
    assert page.locator(f"{WIDGET} header").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 212, 59)"
    results = axe(page)
    assert [v["id"] for v in results["violations"] if v["id"] == "color-contrast"] == [], serious(results)
    assert serious(results) == []
    contrast = [r for r in results["passes"] if r["id"] == "color-contrast"]
    assert contrast and contrast[0]["nodes"]  # the rule ran on the widget's text


def test_the_widget_works_with_the_keyboard_alone(live_server_url, browser, host_site):  # noqa: F811
    url = live_server_url
    site, pages = host_site
    org = make_org(ack=False)
    channel, _token = do_create_channel(
        org, "webchat", "Chat", {"allowed_origins": [site], "company_name": "Rossi bakery"}
    )
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(widget_page(url, site, pages, channel.code))
    launcher = page.get_by_role("button", name="Open the chat")
    expect(launcher).to_be_visible()

    # Tab from the top of the page: the host's link, then the launcher.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="The menu")).to_be_focused()
    page.keyboard.press("Tab")
    expect(launcher).to_be_focused()
    assert launcher.get_attribute("aria-expanded") == "false"
    # The focus ring is visible (the host page's styles cannot hide it).
    assert launcher.evaluate("e => getComputedStyle(e).outlineStyle") != "none"

    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Chat with Rossi bakery")
    expect(dialog).to_be_visible()
    box = page.get_by_label("Write a message")
    expect(box).to_be_focused()
    page.keyboard.type("Hello, are you open on Sunday?")
    page.keyboard.press("Enter")
    log = page.get_by_role("log")
    expect(log.locator("li.visitor")).to_have_count(1)
    expect(log.locator("li.pending")).to_have_count(0)
    expect(box).to_be_focused()
    expect(box).to_have_value("")

    # Tab walks the window: the send button, then the close button comes round.
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Send")).to_be_focused()

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    closed_launcher = page.get_by_role("button", name="Open the chat")
    expect(closed_launcher).to_be_focused()
    assert closed_launcher.get_attribute("aria-expanded") == "false"

    # Space opens it again, and the close button closes it from the keyboard too.
    page.keyboard.press(" ")
    expect(dialog).to_be_visible()
    expect(box).to_be_focused()
    dialog.get_by_role("button", name="Close the chat").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(closed_launcher).to_be_focused()


def test_axe_finds_no_serious_violation_in_the_feedback_question(live_server_url, browser, host_site):  # noqa: F811
    from adesso.conversations.actions import do_change_status

    url = live_server_url
    site, pages = host_site
    org = make_org(surveys=True)
    giulia = make_agent(org, "Giulia Verdi", language="en")
    channel, _token = do_create_channel(
        org, "webchat", "Chat", {"allowed_origins": [site], "company_name": "Rossi bakery"}
    )
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(widget_page(url, site, pages, channel.code))
    page.get_by_role("button", name="Open the chat").click()
    box = page.get_by_label("Write a message")
    box.fill("Do you make gluten-free cakes?")
    box.press("Enter")
    log = page.get_by_role("log")
    expect(log.locator("li.pending")).to_have_count(0, timeout=5000)
    conversation = Conversation.objects.get(channel=channel)
    do_send_reply(giulia, conversation, "Yes, lactose-free too.")
    do_change_status(giulia, conversation, "resolved")
    scores = page.get_by_role("group", name="Your score")
    expect(scores.get_by_role("button")).to_have_count(5, timeout=5000)
    assert serious(axe(page)) == []
