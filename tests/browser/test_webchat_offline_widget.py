"""The web chat widget with nobody online, in Chromium (issue 11, acceptance 5): the
acknowledgement says so with when the answer will come, the widget asks for an email
address (a bad one is refused there), and once the visitor has left, the agent's reply
reaches that address (Django's locmem outbox: the site's mail backend)."""

from __future__ import annotations

import time

import pytest
from django.core import mail as django_mail
from playwright.sync_api import expect

from adesso.channels.actions import do_create_channel
from adesso.contacts.models import ContactIdentity
from adesso.conversations.actions import do_send_reply
from adesso.conversations.models import Conversation
from tests.browser.test_webchat_widget import host_site  # noqa: F401 (a fixture)
from tests.builders import make_agent, make_org

pytestmark = pytest.mark.browser


def test_nobody_online_the_widget_asks_for_an_email_and_the_reply_arrives_there(
    live_server_url,
    browser,
    host_site,  # noqa: F811 (the fixture imported above)
    settings,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ADESSO_WEBCHAT_AWAY_SECONDS = 1
    django_mail.outbox = []
    url = live_server_url
    site, pages = host_site
    org = make_org(ack=True)
    giulia = make_agent(org, "Giulia Verdi")  # not online
    channel, _token = do_create_channel(
        org, "webchat", "Chat del sito", {"allowed_origins": [site], "company_name": "Pasticceria Rossi"}
    )
    pages["/"] = (
        "<!doctype html><html lang=en><title>Bakery</title>"
        f'<script src="{url}/chat/widget.js" data-channel="{channel.code}" data-lang="en" async></script>'
    )
    visitor = browser.new_context().new_page()
    problems: list[str] = []
    visitor.on("pageerror", lambda e: problems.append(str(e)))
    visitor.goto(f"{site}/")
    visitor.get_by_role("button", name="Open the chat").click()
    box = visitor.get_by_label("Write a message")
    box.fill("Good morning, do you have a gluten free cake for Saturday?")
    box.press("Enter")

    log = visitor.get_by_role("log")
    expect(log).to_contain_text("Nobody from our team is online right now: we will answer within", timeout=5000)
    email = visitor.get_by_label("Your email")
    expect(email).to_be_visible()
    email.fill("mario@example")  # an address to the browser, not to us
    email.press("Enter")
    expect(visitor.get_by_text("This email address does not look right")).to_be_visible()
    expect(email).to_be_focused()
    assert not ContactIdentity.objects.filter(kind="email").exists()
    email.fill("mario.rossi@example.com")
    visitor.get_by_role("button", name="Get the answer").click()
    expect(visitor.get_by_text("Thank you: the answer will also reach mario.rossi@example.com")).to_be_visible()
    assert problems == []

    visitor.close()  # the visitor leaves
    time.sleep(1.2)
    conversation = Conversation.objects.get(channel=channel)
    do_send_reply(giulia, conversation, "Yes, and without lactose too: ready on Saturday.")

    (sent,) = django_mail.outbox
    assert sent.to == ["mario.rossi@example.com"]
    assert f"[#{conversation.code}]" in sent.subject
    assert sent.body == "Yes, and without lactose too: ready on Saturday."
