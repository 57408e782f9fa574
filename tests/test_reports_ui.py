"""The reports, planner and digest pages, through the Django test client."""

import xml.etree.ElementTree as ET

import pytest
import time_machine

from tests.builders import make_agent
from tests.test_reports import NOW, PERIOD, build

pytestmark = pytest.mark.django_db


def page(client, user, url, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(url, params)


def figures(html: str) -> list[ET.Element]:
    out = []
    start = 0
    while (i := html.find('<figure class="chart"', start)) >= 0:
        end = html.index("</figure>", i) + len("</figure>")
        out.append(ET.fromstring(html[i:end]))
        start = end
    return out


def test_reports_page_shows_charts_side_by_side_and_the_table(client):
    w = build()
    r = page(client, w["sara"], "/reports/", **PERIOD)
    assert r.status_code == 200
    html = r.content.decode()
    charts = figures(html)
    assert [c.find("figcaption").text for c in charts] == [
        "Answered within target", "First response time, p50 and p90", "First response time distribution",
        "Service level breaches", "Backlog by hour"]
    legend = ["".join(li.itertext()) for li in charts[2].iter("li")]
    assert legend == ["=Chat", "Sito web"]  # the channels side by side
    assert "Download CSV" in html and 'aria-current="page">Channel<' in html
    assert "50.0 %" in html  # in all: 2 of 4 within target (English for Sara)


def test_reports_page_in_italian_with_locale_numbers(client):
    w = build()
    html = page(client, w["giulia"], "/reports/", **PERIOD).content.decode()
    assert "Solo le tue conversazioni." in html
    assert "100,0 %" in html
    assert "Risposte entro l&#x27;obiettivo" in html or "Risposte entro l'obiettivo" in html


def test_names_are_escaped_in_charts_and_tables(client):
    w = build()
    w["web"].channel.name = "<script>alert(1)</script>"
    w["web"].channel.save(update_fields=["name"])
    html = page(client, w["sara"], "/reports/", **PERIOD).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_bad_period_says_so_and_shows_the_default(client):
    agent = make_agent(make_org_for_ui())
    html = page(client, agent, "/reports/", **{"from": "ieri"}).content.decode()
    assert "role=\"alert\"" in html and "YYYY-MM-DD" in html


def make_org_for_ui():
    from tests.builders import make_org

    return make_org()


def test_csv_download_from_the_page(client):
    w = build()
    r = page(client, w["sara"], "/reports/csv", **PERIOD, by="agent")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "Giulia" in r.content.decode()
    r = page(client, w["sara"], "/reports/csv", **PERIOD, table="backlog")
    assert r.content.decode().splitlines()[0].startswith("hour,total")


def test_planner_is_for_supervisors(client):
    w = build()
    assert page(client, w["giulia"], "/planner/").status_code == 403
    r = page(client, w["sara"], "/planner/", weeks="1", share="90", target_minutes="60")
    assert r.status_code == 200
    html = r.content.decode()
    assert len(figures(html)) == 2
    staffing = html[html.index("<table class=\"staffing heatmap\">"):]
    staffing = staffing[:staffing.index("</table>")]
    assert staffing.count("<tr><th scope=\"row\">") == 24
    r = page(client, w["sara"], "/planner/", share="150")
    assert "role=\"alert\"" in r.content.decode()


def test_digest_preview(client):
    w = build()
    assert page(client, w["giulia"], "/reports/digest").status_code == 403
    html = page(client, w["sara"], "/reports/digest").content.decode()
    assert "Waiting for a human answer now" in html
    assert w["d"].code in html and w["e"].code in html


def test_italian_supervisor_sees_no_english(client):
    from tests.test_front_i18n import english_fragments, english_in

    w = build()
    anna = make_agent(w["org"], "Anna", role="supervisor", language="it")
    fragments = english_fragments()
    for url, params in [("/reports/", PERIOD), ("/reports/", {**PERIOD, "by": "agent"}),
                        ("/reports/", {"from": "ieri"}), ("/planner/", {}), ("/reports/digest", {})]:
        html = page(client, anna, url, **params).content.decode()
        assert '<html lang="it">' in html
        assert english_in(html, fragments) == [], url


def test_a_long_period_charts_the_peak_of_each_block_of_hours(client):
    w = build()
    html = page(client, w["sara"], "/reports/", **{"from": "2026-10-01", "to": "2026-11-30"}).content.decode()
    backlog = figures(html)[-1]
    assert backlog.find("figcaption").text == "Backlog: the peak of every 5 hours"
    rows = backlog.findall("div/table/tbody/tr")
    assert len(rows) == 293  # 61 days and one extra hour (the end of summer time), 5 hours a point
    peaks = [r[1].text.split()[0] for r in rows]
    assert max(float(p) for p in peaks if p != "-") == 2  # d and e, waiting together
    assert peaks[-1] == "-"  # the future
