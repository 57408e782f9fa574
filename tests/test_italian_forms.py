"""Italian (and English) forms on the main pages and in the digest, with one item and
with two: never a singular number before a plural noun ("1 conversazioni"), dates in
Italian order and case ("venerdì 4 dicembre 2026"), count charts with whole ticks."""

import datetime as dt
import html as html_lib
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext, ngettext

from adesso.accounts.models import User
from adesso.front.templatetags.adesso_front import number
from adesso.lib.charts import bar_chart
from adesso.reports.digest import render_digest
from adesso.sla.actions import do_check_sla
from tests.builders import customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
THURSDAY = dt.datetime(2026, 12, 3, 9, 0, tzinfo=ROME)
FRIDAY = dt.datetime(2026, 12, 4, 10, 0, tzinfo=ROME)

PLURAL_AFTER_ONE = {
    "it": re.compile(
        r"(?<![\d.,])\b1 (conversazioni|sforamenti|messaggi|clienti|agenti|operatori|minuti|ore|giorni|"
        r"settimane|notifiche|risposte|categorie|contatti|indirizzi|arrivi)\b"
    ),
    "en": re.compile(
        r"(?<![\d.,])\b1 (conversations|breaches|messages|customers|agents|minutes|hours|days|weeks|"
        r"notifications|replies|categories|contacts|addresses|arrivals)\b"
    ),
}
MONTHS = "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre"
WEEKDAYS = "lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica"
CAPITALISED = re.compile(r"\b(" + "|".join(w.capitalize() for w in f"{MONTHS}|{WEEKDAYS}".split("|")) + r")\b")
LEADING_ZERO = re.compile(rf"\b0\d ({MONTHS})\b")
TICK = re.compile(r'<text class="chart-tick"[^>]*>([^<]*)</text>')


def shop(n: int, language: str) -> dict:
    """`n` customers who wrote on Thursday morning and waited past the hour (`n` breaches),
    seen on Friday by a supervisor and an agent in `language`."""
    org = make_org()
    boss = make_agent(org, "Sara", role="supervisor", language=language)
    agent = make_agent(org, "Giulia", language=language)
    channel = make_api_channel(org, "Sito web")
    with time_machine.travel(THURSDAY, tick=False):
        codes = [customer_writes(channel, sender_id=f"c-{i}")["conversation"] for i in range(n)]
    do_check_sla(THURSDAY + dt.timedelta(hours=2))
    return {"boss": boss, "agent": agent, "codes": codes}


EVERYONE = ["/", "/c/{code}/", "/contacts/", "/silence", "/team", "/notifications", "/reports/"]
SUPERVISORS = ["/reports/digest", "/planner/", "/coach/"]


def pages(user: User, code: str) -> dict[str, str]:
    """The main pages as `user` sees them on Friday."""
    client = Client()
    client.force_login(user)
    urls = [url.format(code=code) for url in EVERYONE + (SUPERVISORS if user.is_supervisor else [])]
    out = {}
    with time_machine.travel(FRIDAY, tick=True):
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, url
            out[url] = r.content.decode()
        contact_url = re.search(r'href="(/contacts/[a-z0-9]+/)"', out[f"/c/{code}/"]).group(1)
        out[contact_url] = client.get(contact_url).content.decode()
    return out


def text_of(page: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", page))


def attributes_of(page: str) -> str:
    return html_lib.unescape(" ".join(re.findall(r'(?:title|aria-label|placeholder)="([^"]*)"', page)))


def digest(user: User) -> tuple[str, str, str]:
    with time_machine.travel(FRIDAY, tick=False):
        return render_digest(user, FRIDAY)


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("n", [1, 2])
def test_no_singular_number_before_a_plural_noun(n, language):
    w = shop(n, language)
    plural_after_one = PLURAL_AFTER_ONE[language]

    seen = {
        **pages(w["boss"], w["codes"][0]),
        **{f"agent {url}": page for url, page in pages(w["agent"], w["codes"][0]).items()},
    }
    subject, text, html = digest(w["boss"])

    for url, page in seen.items():
        for where in (text_of(page), attributes_of(page), page):
            assert not plural_after_one.search(where), (url, plural_after_one.search(where).group(0))
    for part in (subject, text, text_of(html)):
        assert not plural_after_one.search(part), plural_after_one.search(part).group(0)


@pytest.mark.parametrize(
    ("n", "conversations", "breaches", "customers"),
    [(1, "1 conversazione", "1 sforamento", "1 cliente"), (2, "2 conversazioni", "2 sforamenti", "2 clienti")],
)
def test_the_digest_counts_in_italian(n, conversations, breaches, customers):
    w = shop(n, "it")

    subject, text, html = digest(w["boss"])

    assert f"Sito web: {conversations}, " in text
    assert f", {breaches}" in text
    assert f"{customers}, dall'attesa più lunga" in text
    assert "3 dicembre 2026" in subject and "3 dicembre 2026" in text_of(html)


def test_dates_in_italian_order_and_case():
    w = shop(1, "it")

    seen = pages(w["boss"], w["codes"][0])
    subject, text, html = digest(w["boss"])

    conversation = attributes_of(seen[f"/c/{w['codes'][0]}/"])
    # A message's full time: weekday, day without a leading zero, month, year; all lower case.
    assert re.search(r"\bgiovedì 3 dicembre 2026, 09:00\b", conversation), conversation
    assert "dal 28 novembre 2026 al 4 dicembre 2026" in text_of(seen["/reports/"]).lower()
    for where in [*seen.values(), subject, text, html]:
        plain = text_of(where) + attributes_of(where)
        assert not CAPITALISED.search(plain), CAPITALISED.search(plain).group(0)
        assert not LEADING_ZERO.search(plain), LEADING_ZERO.search(plain).group(0)


def test_count_charts_have_whole_ticks_only():
    w = shop(1, "it")

    report = pages(w["boss"], w["codes"][0])["/reports/"]

    with translation.override("it"):
        count_titles = [
            gettext("Service level breaches"),
            gettext("First response time distribution"),
            gettext("Backlog by hour"),
        ]
    figures = report.split('<figure class="chart"')[1:]
    counted = [
        f for f in figures if any(f'<figcaption class="chart-title">{t}</figcaption>' in f for t in count_titles)
    ]
    assert len(counted) == 3
    ticks = [tick for figure in counted for tick in TICK.findall(figure)]
    assert ticks and all(re.fullmatch(r"\d+", tick) for tick in ticks), ticks
    # Each bar's tooltip and the hidden table say the count with its noun.
    assert "Sito web · Sforamenti: 1 sforamento" in html_lib.unescape(report)


@pytest.mark.parametrize(
    ("values", "first"),
    [
        ([1, 0], "1 sforamento"),
        ([1, 3], "1 sforamento"),
        ([0, 7], "0 sforamenti"),
        ([2, 9], "2 sforamenti"),
        ([0, 0], "0 sforamenti"),
    ],
)
def test_a_count_chart_never_has_fractional_ticks(values, first):
    with translation.override("it"):
        chart = bar_chart(
            ["a", "b"],
            {"Sforamenti": values},
            title="t",
            unit="sforamenti",
            count=lambda n: ngettext("%(n)s breach", "%(n)s breaches", int(n)) % {"n": int(n)},
        )

    ticks = TICK.findall(chart)

    assert ticks and all(re.fullmatch(r"\d+", tick) for tick in ticks), ticks
    assert f"a · Sforamenti: {first}" in html_lib.unescape(chart)


def test_numbers_follow_the_language():
    with translation.override("it"):
        italian = (number(1234), number(12.5), number(7))
    with translation.override("en"):
        english = number(1234)

    assert italian == ("1.234", "12,5", "7")
    assert english == "1,234"
