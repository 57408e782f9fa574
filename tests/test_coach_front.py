"""The reply coach in the agent UI (Django test client): the draft check coach.js calls,
the confirmation on send without JavaScript, supervisors' statistics, admins' rules."""

import pytest

from adesso.accounts.models import Role
from adesso.coach.models import CoachRecord, CoachRule, CoachSettings
from adesso.conversations.models import Message
from tests.builders import make_agent, make_org
from tests.test_front_views import logged_in, make_shop, receive

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _patterns_only(monkeypatch):
    # The similarity layer loads in the background, so whether it answers depends on what
    # ran before in this process: these tests read the patterns (tests/test_coach_engine.py
    # tests the similarity layer).
    monkeypatch.setenv("ADESSO_COACH_SIMILARITY", "0")


@pytest.fixture
def shop():
    return make_shop()


def test_the_conversation_page_has_the_coach(shop):
    conversation = receive(shop.web)
    html = logged_in(shop.giulia).get(f"/c/{conversation.code}/").content.decode()
    assert f'data-coach-url="/c/{conversation.code}/coach"' in html
    assert 'id="coach-mirror"' in html and 'id="coach-panel"' in html and "adesso/coach.js" in html


def test_the_draft_check_answers_json_for_the_agent_of_the_organisation_only(shop):
    conversation = receive(shop.web, text="Il pacco è arrivato rotto")
    client = logged_in(shop.giulia)
    r = client.post(f"/c/{conversation.code}/coach", {"text": "Questa è la nostra policy"})
    assert r.status_code == 200
    body = r.json()
    assert [f["pattern"] for f in body["findings"]] == ["policy"]
    assert body["on_send"] == "warn"
    assert body["score"]["context"]["company_mistake"] is True
    outsider = logged_in(make_agent(make_org(), "Luca"))
    assert outsider.post(f"/c/{conversation.code}/coach", {"text": "x"}).status_code == 404
    assert client.get(f"/c/{conversation.code}/coach").status_code == 405


def test_sending_a_serious_finding_asks_for_confirmation_without_javascript(shop):
    conversation = receive(shop.web)
    client = logged_in(shop.giulia)
    url = f"/c/{conversation.code}/reply"

    r = client.post(url, {"text": "Sto facendo del mio meglio.", "internal": "0"})

    assert r.status_code == 400
    html = r.content.decode()
    assert "Send it anyway?" in html and 'name="coach_confirmed" value="1"' in html
    assert "Sto facendo del mio meglio." in html  # the draft is kept
    assert not Message.objects.filter(conversation=conversation, direction="outgoing").exists()

    sent = client.post(url, {"text": "Sto facendo del mio meglio.", "coach_confirmed": "1"})
    assert sent.status_code == 302
    assert CoachRecord.objects.get().confirmed is True

    note = client.post(url, {"text": "Sto facendo del mio meglio.", "internal": "1"})
    assert note.status_code == 302  # notes are not coached


def test_blocking_refuses_the_reply_and_offers_no_send_anyway(shop):
    conversation = receive(shop.web)
    CoachSettings.objects.create(organization=shop.org, on_send="block")
    r = logged_in(shop.giulia).post(f"/c/{conversation.code}/reply",
                                    {"text": "Ho un'altra chiamata.", "coach_confirmed": "1"})
    assert r.status_code == 400
    html = r.content.decode()
    assert "rewrite it before sending" in html
    assert 'name="coach_confirmed" value="1"' not in html


def test_statistics_page_for_supervisors_with_charts(shop):
    conversation = receive(shop.web)
    logged_in(shop.giulia).post(f"/c/{conversation.code}/reply",
                                {"text": "Questa è la nostra policy.", "coach_confirmed": "1"})
    assert logged_in(shop.giulia).get("/coach/").status_code == 403
    boss = make_agent(shop.org, "Sara", role=Role.SUPERVISOR, language="en")
    html = logged_in(boss).get("/coach/").content.decode()
    assert "Coaching" in html and "<svg" in html and "Hiding behind policy" in html
    assert "Giulia" in html
    team_page = logged_in(boss).get("/coach/", {"team": shop.team.code, "days": "abc"})
    assert team_page.status_code == 200


def test_admins_add_and_delete_rules_and_set_what_happens_on_send(shop):
    admin = make_agent(shop.org, "Anna", role=Role.ADMIN, language="en")
    client = logged_in(admin)
    assert logged_in(shop.giulia).get("/coach/rules").status_code == 403
    assert client.get("/coach/rules").status_code == 200

    bad = client.post("/coach/rules", {"pattern": "mine", "language": "it", "phrases": "ciao"})
    assert bad.status_code == 400 and "needs a reason" in bad.content.decode()

    ok = client.post("/coach/rules", {"pattern": "mine", "language": "it", "phrases": "non saprei\nnon so",
                                      "reason": "Incerto", "severity": "warning"})
    assert ok.status_code == 302
    rule = CoachRule.objects.get()
    assert (rule.phrases, rule.severity, rule.created_by) == (["non saprei", "non so"], "warning", admin)
    conversation = receive(shop.web)
    found = logged_in(shop.giulia).post(f"/c/{conversation.code}/coach", {"text": "Non saprei."}).json()
    assert [f["pattern"] for f in found["findings"]] == ["mine"]

    assert client.post("/coach/rules", {"on_send": "block"}).status_code == 302
    assert CoachSettings.objects.get(organization=shop.org).on_send == "block"
    assert client.post("/coach/rules", {"delete": rule.code}).status_code == 302
    assert not CoachRule.objects.exists()


def test_an_italian_agent_reads_the_coach_in_italian_and_the_rewrite_follows_the_draft(shop):
    conversation = receive(shop.web)
    anna = make_agent(shop.org, "Anna", language="it")
    client = logged_in(anna)
    page = client.get(f"/c/{conversation.code}/").content.decode()
    assert "Coach delle risposte" in page and "Usa questa" in page
    [f] = client.post(f"/c/{conversation.code}/coach", {"text": "That's company policy."}).json()["findings"]
    assert f["label"] == "Nascondersi dietro la policy"
    assert f["reason"].startswith("«È la nostra policy»")
    assert f["suggestion"] == "Let me see what I can do for you right away"


def test_one_click_dismissal_from_the_reply_box_shows_in_the_statistics(shop):
    conversation = receive(shop.web)
    page = logged_in(shop.giulia).get(f"/c/{conversation.code}/").content.decode()
    assert f'data-dismiss-url="/c/{conversation.code}/coach/dismiss"' in page
    url = f"/c/{conversation.code}/coach/dismiss"
    r = logged_in(shop.giulia).post(url, {"pattern": "referral", "layer": "pattern"})
    assert r.status_code == 201
    r = logged_in(shop.giulia).post(f"/c/{conversation.code}/coach/dismiss", {"pattern": "<script>"})
    assert r.status_code == 400 and r.json()["error"] == "unknown_pattern"
    boss = make_agent(shop.org, "Sara", role=Role.SUPERVISOR, language="en")
    html = logged_in(boss).get("/coach/").content.decode()
    table = html[html.index('id="coach-dismissals"') :]
    assert "Sending the customer elsewhere" in table and '<td class="num">1</td>' in table
