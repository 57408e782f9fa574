"""The reply coach over the API: POST /api/v1/coach, the check on POST .../messages,
an organisation's rules and settings (admins), statistics (supervisors)."""

import pytest

from adesso.accounts.models import Role
from adesso.coach.models import CoachFinding, CoachRecord
from adesso.contacts.models import Contact
from adesso.conversations.models import Message
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _patterns_only(monkeypatch):
    # The similarity layer loads in the background, so whether it answers depends on what
    # ran before in this process: these tests read the patterns (tests/test_coach_engine.py
    # tests the similarity layer).
    monkeypatch.setenv("ADESSO_COACH_SIMILARITY", "0")


def test_coach_returns_findings_with_offsets_reason_suggestion_and_a_score():
    giulia = AgentApi(make_agent(make_org(), "Giulia", language="en"))
    text = "Buongiorno, questa è la nostra policy."

    r = giulia.post("/coach", {"text": text})

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["language"] == "it"
    [f] = body["findings"]
    assert (f["pattern"], f["severity"], text[f["start"] : f["end"]]) == (
        "policy", "serious", "questa è la nostra policy")
    assert f["reason"].startswith('"It\'s our policy"')  # the agent's language
    assert f["suggestion"] == "Vediamo subito cosa posso fare per lei"  # the draft's language
    assert 0 <= body["score"]["total"] <= 100
    assert {c["id"] for c in body["score"]["checks"]} >= {"apology", "ownership", "next_step", "empathy"}


def test_coach_reads_the_conversation_the_customer_their_tier_and_name():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    code = customer_writes(make_api_channel(org), "Il pacco è arrivato rotto! Quando arriva il nuovo?")["conversation"]
    Contact.objects.filter(conversations__code=code).update(tier="vip", name="Mario Bianchi", language="it")

    body = giulia.post("/coach", {"text": "Ci scusiamo per eventuali disagi.", "conversation": code}).json()

    context = body["score"]["context"]
    assert context["company_mistake"] is True and context["tier"] == "vip"
    assert context["question"] == "Quando arriva il nuovo?"
    checks = {c["id"]: c for c in body["score"]["checks"]}
    assert checks["apology"]["expected"] and not checks["apology"]["met"]
    assert checks["thanks_loyal"]["expected"] and checks["greeting_name"]["expected"]


def test_coach_refuses_bad_input_and_other_organisations_conversations():
    giulia = AgentApi(make_agent(make_org(), "Giulia"))
    other = customer_writes(make_api_channel(make_org()))["conversation"]
    assert giulia.post("/coach", {"text": "ciao", "conversation": other}).status_code == 404
    assert giulia.post("/coach", {"text": "ciao", "language": "fr"}).status_code == 422
    assert giulia.post("/coach", {"language": "it"}).status_code == 422
    assert giulia.post("/coach", {"text": "x" * 20_001}).status_code == 422
    assert giulia.post("/coach", {"text": "ciao", "conversation": "../x"}).status_code == 422
    assert giulia.send("POST", "/coach", b"not json").status_code == 400
    empty = giulia.post("/coach", {"text": ""}).json()
    assert empty["findings"] == []


def test_a_public_reply_with_a_serious_finding_asks_for_confirmation_then_is_recorded():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    code = customer_writes(make_api_channel(org))["conversation"]
    path = f"/conversations/{code}/messages"

    refused = giulia.post(path, {"text": "Questa è la nostra policy."})
    assert refused.status_code == 400
    assert refused.json()["error"] == "coach_confirm"
    assert not Message.objects.filter(conversation__code=code, direction="outgoing").exists()

    sent = giulia.post(path, {"text": "Questa è la nostra policy.", "confirmed": True})
    assert sent.status_code == 201, sent.content
    record = CoachRecord.objects.get()
    assert (record.agent, record.message.code, record.serious, record.confirmed) == (
        giulia.agent, sent.json()["code"], 1, True)
    assert list(CoachFinding.objects.values_list("pattern", flat=True)) == ["policy"]

    # Internal notes are not coached; clean replies go straight through and are recorded.
    assert giulia.post(path, {"text": "Questa è la nostra policy.", "internal": True}).status_code == 201
    assert giulia.post(path, {"text": "Le scrivo entro le 17 con l'esito."}).status_code == 201
    assert CoachRecord.objects.count() == 2


def test_an_organisation_that_blocks_refuses_even_a_confirmed_reply():
    org = make_org()
    admin = AgentApi(make_agent(org, "Anna", role=Role.ADMIN))
    code = customer_writes(make_api_channel(org))["conversation"]
    assert admin.send("PUT", "/coach/settings", '{"on_send": "block"}').json() == {"on_send": "block"}

    r = admin.post(f"/conversations/{code}/messages", {"text": "Ho un'altra chiamata.", "confirmed": True})

    assert r.status_code == 400 and r.json()["error"] == "coach_blocked"
    assert admin.send("PUT", "/coach/settings", '{"on_send": "off"}').status_code == 200
    assert admin.post(f"/conversations/{code}/messages", {"text": "Ho un'altra chiamata."}).status_code == 201


def test_admins_manage_their_own_rules_and_the_coach_uses_them():
    org = make_org()
    admin = AgentApi(make_agent(org, "Anna", role=Role.ADMIN))
    agent = AgentApi(make_agent(org, "Giulia"))
    rule = {"pattern": "no_unfortunately", "language": "it", "phrases": ["purtroppo non si può"],
            "reason": "Suona come un muro", "suggestion": "Ecco cosa possiamo fare"}

    assert agent.post("/coach/rules", rule).status_code == 403
    created = admin.post("/coach/rules", rule)
    assert created.status_code == 201, created.content
    code = created.json()["code"]

    [f] = agent.post("/coach", {"text": "Purtroppo non si potrà fare."}).json()["findings"]
    assert (f["pattern"], f["reason"]) == ("no_unfortunately", "Suona come un muro")
    # Another organisation does not see it.
    outsider = AgentApi(make_agent(make_org(), "Luca"))
    assert outsider.post("/coach", {"text": "Purtroppo non si potrà fare."}).json()["findings"] == []
    assert AgentApi(make_agent(make_org(), "Zoe", role=Role.ADMIN)).send(
        "DELETE", f"/coach/rules/{code}").status_code == 404

    assert [r["code"] for r in admin.get("/coach/rules").json()] == [code]
    updated = admin.send("PUT", f"/coach/rules/{code}", '{"pattern": "policy", "language": "en", '
                                                        '"phrases": ["house rules"]}')
    assert updated.status_code == 200 and updated.json()["pattern"] == "policy"
    assert admin.send("DELETE", f"/coach/rules/{code}").status_code == 204
    assert admin.get("/coach/rules").json() == []


@pytest.mark.parametrize("bad, error", [
    ({"pattern": "Bad Id!", "phrases": ["x y"], "reason": "r"}, "invalid_pattern"),
    ({"pattern": "mine", "phrases": [], "reason": "r"}, "no_phrases"),
    ({"pattern": "mine", "phrases": ["   "], "reason": "r"}, "no_phrases"),
    ({"pattern": "mine", "phrases": ["ciao"]}, "no_reason"),
    ({"pattern": "mine", "phrases": ["!!!"], "reason": "r"}, "invalid_phrase"),
])
def test_bad_rules_are_refused_with_a_clear_error(bad, error):
    admin = AgentApi(make_agent(make_org(), "Anna", role=Role.ADMIN))
    r = admin.post("/coach/rules", {"language": "it", **bad})
    assert r.status_code == 400 and r.json()["error"] == error, r.content


def test_statistics_per_pattern_and_agent_for_supervisors_only():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    marco = AgentApi(make_agent(org, "Marco"))
    boss = AgentApi(make_agent(org, "Sara", role=Role.SUPERVISOR))
    make_team(org, "Ordini", [giulia.agent])
    code = customer_writes(make_api_channel(org))["conversation"]
    path = f"/conversations/{code}/messages"
    giulia.post(path, {"text": "Questa è la nostra policy.", "confirmed": True})
    giulia.post(path, {"text": "Sto facendo del mio meglio, ho un'altra chiamata.", "confirmed": True})
    marco.post(path, {"text": "Le scrivo entro le 17."})

    assert giulia.get("/coach/stats").status_code == 403
    body = boss.get("/coach/stats", days=14).json()
    assert sum(body["replies"]) == 3
    assert body["totals"] == {"policy": 1, "doing_my_best": 1, "busy": 1}
    rows = {a["name"]: a for a in body["agents"]}
    assert (rows["Giulia"]["replies"], rows["Giulia"]["findings"], rows["Giulia"]["per_100"]) == (2, 3, 150.0)
    assert rows["Marco"]["findings"] == 0
    team = boss.get("/coach/stats", team=giulia.agent.teams.get().code).json()
    assert sum(team["replies"]) == 2
    one = boss.get("/coach/stats", agent=marco.agent.code, bucket="day").json()
    assert sum(one["replies"]) == 1 and one["totals"] == {}
    assert boss.get("/coach/stats", agent="nobody").status_code == 404


def test_agents_dismiss_a_finding_and_supervisors_see_dismissals_per_rule():
    org, other = make_org(), make_org("Altra")
    giulia = AgentApi(make_agent(org, "Giulia"))
    boss = AgentApi(make_agent(org, "Sara", role=Role.SUPERVISOR))
    stranger = AgentApi(make_agent(other, "Bruno"))
    code = customer_writes(make_api_channel(org))["conversation"]

    for pattern in ("refusal", "refusal", "referral"):
        r = giulia.post("/coach/dismissals", {"pattern": pattern, "layer": "pattern", "conversation": code})
        assert r.status_code == 201, r.content
        assert r.json()["pattern"] == pattern
    # refused: an unknown rule, a bad layer, another organisation's conversation
    r = giulia.post("/coach/dismissals", {"pattern": "nope"})
    assert (r.status_code, r.json()["error"]) == (400, "unknown_pattern")
    assert giulia.post("/coach/dismissals", {"pattern": "policy", "layer": "guess"}).status_code == 422
    assert stranger.post("/coach/dismissals", {"pattern": "policy", "conversation": code}).status_code == 404
    assert stranger.post("/coach/dismissals", {"pattern": "policy"}).status_code == 201

    assert giulia.get("/coach/stats").status_code == 403
    stats = boss.get("/coach/stats").json()
    assert stats["dismissals"] == {"refusal": 2, "referral": 1}  # the other organisation's is not counted
