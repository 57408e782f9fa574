"""Reports and the staffing planner in Chromium, in Italian, on a week of history made
through the real actions (customers write, agents answer, the SLA timer runs).

With ADESSO_SCREENSHOTS=docs/screenshots this also saves reports.png and planner.png.
"""

import datetime as dt
import os
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from adesso.accounts.models import Role
from adesso.channels.base import InboundMessage, InboundSender
from adesso.conversations.actions import do_send_reply
from adesso.intake.actions import do_receive_message
from adesso.sla.actions import do_check_sla
from tests.browser.test_agent_ui import PASSWORD
from tests.builders import make_agent, make_api_channel, make_org

pytestmark = pytest.mark.browser

ROME = ZoneInfo("Europe/Rome")
# (channel name, arrivals per daytime hour, mean minutes to the first answer)
CHANNELS = [("Email", 1.2, 45), ("Chat sul sito", 1.6, 6), ("WhatsApp", 1.0, 18)]


def a_week_of_history(now: dt.datetime):
    """Customers on three channels for 7 days up to `now`, answered at each channel's pace."""
    rnd = random.Random(7)
    org = make_org("Pasticceria Dolce Vita")
    agents = [make_agent(org, name) for name in ("Giulia", "Marco", "Luca")]
    sara = make_agent(org, "Sara", role=Role.SUPERVISOR, language="it")
    channels = [(make_api_channel(org, name).channel, rate, mean) for name, rate, mean in CHANNELS]
    start = (now - dt.timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    events: list[tuple[dt.datetime, int, str, object]] = []
    n = 0
    hour = start
    while hour < now:
        local = hour.astimezone(ROME)
        daytime = 8 <= local.hour < 20
        for channel, rate, mean in channels:
            for _ in range(sum(rnd.random() < (rate if daytime else rate / 8) / 4 for _ in range(4))):
                n += 1
                at = hour + dt.timedelta(seconds=rnd.uniform(0, 3600))
                wait = dt.timedelta(minutes=rnd.expovariate(1 / mean) * (1 if daytime else 3))
                events.append((at, 0, "in", (channel, n)))
                if at + wait < now - dt.timedelta(minutes=20):
                    events.append((at + wait, 1, "out", (n, rnd.choice(agents))))
        hour += dt.timedelta(hours=1)
    for tick in range(0, 7 * 24 * 4):
        events.append((start + dt.timedelta(minutes=15 * tick), 2, "timer", None))
    conversations = {}
    for at, _order, kind, data in sorted(events, key=lambda e: (e[0], e[1])):
        if at > now:
            continue
        with time_machine.travel(at, tick=False):
            if kind == "in":
                channel, i = data
                message = InboundMessage(external_id=f"m{i}", sender=InboundSender(f"cust-{i}", f"Cliente {i}"),
                                         text="Buongiorno, a che punto è il mio ordine?")
                conversations[i] = do_receive_message(channel, message).conversation
            elif kind == "out":
                i, agent = data
                conversation = conversations[i]
                conversation.refresh_from_db()
                do_send_reply(agent, conversation, "Eccoci: l'ordine parte oggi.")
            else:
                do_check_sla(at)
    return sara


def full_page(page, name):
    """Like the `snap` fixture, but the whole page (the charts run below the fold)."""
    target = os.environ.get("ADESSO_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def log_in(page, url, agent):
    page.goto(f"{url}/login/")
    page.fill("#id_username", agent.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


@pytest.fixture
def italian_page(browser):
    """An Italian browser window."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="it-IT")
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    yield page
    context.close()


def test_reports_and_planner_render_their_charts_in_italian(live_server_url, italian_page):
    page = italian_page
    now = dt.datetime.now(dt.UTC)
    sara = a_week_of_history(now)
    log_in(page, live_server_url, sara)
    page.click("nav.topbar >> text=Report")
    expect(page.locator("h1")).to_have_text("Report")
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(5)
    expect(charts.nth(2).locator(".chart-legend li")).to_have_text(["Chat sul sito", "Email", "WhatsApp"])
    # Bars and lines are drawn, and the CSS colours them (not the black default).
    assert page.locator("figure.chart rect.chart-bar").count() > 10
    assert page.locator("figure.chart polyline.chart-line").count() >= 3
    fill = page.locator("rect.chart-s0").first.evaluate("e => getComputedStyle(e).fill")
    assert fill == "rgb(15, 118, 110)"
    expect(page.locator(".report-table")).to_contain_text("Chat sul sito")
    full_page(page, "reports")

    page.click("text=Pianificazione del personale")
    expect(page.locator("h1")).to_have_text("Pianificazione del personale")
    page.fill("#p-weeks", "1")
    page.click("button.primary")
    expect(page.locator("figure.chart")).to_have_count(2)
    expect(page.locator("table.staffing tbody tr")).to_have_count(24)
    full_page(page, "planner")
    assert page.problems == []
