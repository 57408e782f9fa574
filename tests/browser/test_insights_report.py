"""The insights report in Chromium, in Italian: customers of Casalinghi Ferri wrote
about seven themes on two channels, the team answered and resolved, customers scored;
Marta, the supervisor, opens the report: the CSAT line per channel, the topic bars,
the process heatmap and the process table with quotes are drawn; then the process
settings and the survey settings.

With ADESSO_SCREENSHOTS=<dir> this also saves insights_report.png,
insights_processes.png and survey_settings.png.
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from adesso.surveys.models import Survey
from tests.browser.test_reports_ui import full_page, italian_page, log_in  # noqa: F401 (a fixture)
from tests.test_insights_report import _work, _world

pytestmark = pytest.mark.browser


def test_the_insights_report_draws_its_charts_in_italian(live_server_url, italian_page):  # noqa: F811
    page = italian_page
    world = _world()
    _work(world)
    # The scores came in over the week: one answer a day on each channel, WhatsApp a day later.
    answered = Survey.objects.filter(organization=world.org, score__isnull=False).order_by("pk")
    for channel, later in ((world.web.channel, 0), (world.whatsapp.channel, 1)):
        for day, survey in enumerate(answered.filter(channel=channel)):
            Survey.objects.filter(pk=survey.pk).update(answered_at=timezone.now() - dt.timedelta(days=day + later))
    log_in(page, live_server_url, world.marta)
    page.click("nav.topbar >> text=Analisi")
    expect(page.locator("h1")).to_have_text("Analisi: processi e argomenti")
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(2)
    # The CSAT line per channel, and the topics' bars coloured by the stylesheet.
    expect(charts.nth(0).locator(".chart-legend li")).to_have_text(["Sito web", "WhatsApp"])
    assert charts.nth(0).locator("polyline.chart-line").count() >= 2
    assert charts.nth(1).locator("rect.chart-bar").count() >= 6
    expect(charts.nth(1).locator(".chart-legend li")).to_have_text(["Critiche", "Elogi"])
    fill = page.locator("rect.chart-s0").first.evaluate("e => getComputedStyle(e).fill")
    assert fill == "rgb(15, 118, 110)"
    # The heatmap: five processes by eight figures, coloured.
    heat = page.locator("#process-heatmap table.heat tbody tr")
    expect(heat).to_have_count(6)  # five processes and all conversations
    expect(heat.first.locator("th")).to_have_text("Consegne")
    coloured = page.locator("#process-heatmap td.heat-bad-2, #process-heatmap td.heat-bad-1").first
    assert coloured.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    # The table, and each process's criticisms and praises with quotes.
    expect(page.locator("#process-table tbody tr")).to_have_count(5)
    delivery = page.locator(".process-card").first
    expect(delivery.locator("h3")).to_contain_text("Consegne")
    assert delivery.locator(".process-criticisms blockquote").count() >= 1
    assert delivery.locator(".process-praises blockquote").count() >= 1
    full_page(page, "insights_report")
    # On a phone the wide tables scroll inside their box: the page itself is no wider.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1366, "height": 860})

    # Filtered by the WhatsApp channel: its own line only.
    page.select_option("#i-channel", label="WhatsApp")
    page.click("form.report-controls button.primary")
    expect(page.locator("figure.chart").nth(0).locator(".chart-legend li")).to_have_text(["WhatsApp"])

    page.click(".report-downloads >> text=Processi")
    expect(page.locator("h1")).to_have_text("Processi aziendali")
    expect(page.locator("#topics tbody tr").first).to_be_visible()
    full_page(page, "insights_processes")
    page.goto(f"{live_server_url}/settings/surveys")
    expect(page.locator("h1")).to_have_text("Sondaggi")
    full_page(page, "survey_settings")
    assert page.problems == []
