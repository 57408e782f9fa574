"""An admin invites an agent in the UI; the agent opens the link, sets a password, and
lands in the inbox, logged in."""

import re

import pytest
from playwright.sync_api import expect

from adesso.accounts.models import Role, User
from tests.builders import make_agent, make_org, make_team

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def test_admin_invites_an_agent_who_sets_a_password_and_sees_the_inbox(live_server_url, page, browser, snap):
    url = live_server_url
    org = make_org()
    francesca = make_agent(org, "Francesca", role=Role.ADMIN, language="en")
    giulia = make_agent(org, "Giulia")
    make_agent(org, "Sarah", role=Role.SUPERVISOR, language="en")
    make_team(org, "Assistenza clienti", [giulia, francesca])

    page.goto(f"{url}/login/")
    page.fill("#id_username", francesca.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.click("nav.topbar >> text=Agents")
    page.wait_for_url(f"{url}/settings/agents")
    page.fill("input[name=email]", "luca.verdi@example.com")
    page.fill("input[name=name]", "Luca Verdi")
    page.select_option("#invite select[name=role]", "agent")
    page.select_option("#invite select[name=language]", "it")
    page.click("#invite button[type=submit]")
    link = page.locator("#invitation-link")
    expect(link).to_have_value(re.compile(r"/invite/inv_"))
    expect(page.locator("#invitations")).to_contain_text("luca.verdi@example.com")
    accept_url = link.input_value()
    snap(page, "admin-agents")
    assert page.problems == []

    invited = browser.new_context(viewport={"width": 1366, "height": 860}, locale="it-IT")
    newcomer = invited.new_page()
    newcomer.goto(accept_url)
    expect(newcomer.locator("#id_email")).to_have_value("luca.verdi@example.com")
    newcomer.fill("#id_password", "sfogliatella-calda-7")
    newcomer.fill("#id_password2", "sfogliatella-calda-7")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url(f"{url}/")
    expect(newcomer.locator("#inbox-list")).to_be_visible()
    expect(newcomer.locator(".topbar .me")).to_have_text("Luca Verdi")
    expect(newcomer.locator(".topbar")).to_contain_text("In arrivo")
    luca = User.objects.get(email="luca.verdi@example.com")
    assert (luca.organization_id, luca.role) == (org.pk, Role.AGENT)
    invited.close()

    page.reload()
    expect(page.locator(f'tr[data-agent="{luca.code}"]')).to_contain_text("Luca Verdi")
    expect(page.locator("#invitations")).to_contain_text("Accepted")
