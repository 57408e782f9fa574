"""Issue 12, the reply coach learns: rewrites replace whole sentences and are checked by
the coach itself; the score is monotonic in serious findings (acceptance 5)."""

import itertools

import pytest

from adesso.coach.engine import SERIOUS_CEILING, Context, coach, suggestion_is_clean
from adesso.coach.rules import BUILTIN_IDS, OrgRuleData, builtin_rules, org_rules

RULES = {r.id: r for r in builtin_rules()}
EXAMPLES = [(r.id, lang, text) for r in builtin_rules() for lang, texts in r.examples.items() for text in texts]


def apply(text, finding):
    return text[: finding.replace_start] + finding.suggestion + text[finding.replace_end :]


def test_the_issues_refusal_is_flagged_and_its_rewrite_replaces_the_whole_sentence():
    text = "Grazie per la pazienza. Non possiamo fare nulla. Buona giornata."
    [f] = coach(text, "it").findings
    assert f.pattern == "refusal" and f.severity == "serious"
    assert text[f.replace_start : f.replace_end] == "Non possiamo fare nulla"
    fixed = apply(text, f)
    assert "non possiamo fare nulla" not in fixed.lower()
    assert coach(fixed, "it").findings == []
    # A half-replaced sentence ("Vediamo subito cosa posso fare per lei, non possiamo fare
    # nulla.") cannot happen: the flagged words lie inside the replaced span.
    text = "Guardi, è la nostra policy, non possiamo fare nulla."
    for f in coach(text, "it").findings:
        assert f.replace_start <= f.start and f.end <= f.replace_end
        assert f.replace_start == 0 and f.replace_end == len(text) - 1


@pytest.mark.parametrize("pattern", BUILTIN_IDS)
@pytest.mark.parametrize("language", ["it", "en"])
def test_every_rules_suggestion_is_itself_clean(pattern, language):
    suggestion = RULES[pattern].text("suggestion", language)
    assert suggestion and suggestion_is_clean(suggestion, language), (pattern, suggestion)
    assert coach(suggestion, language).findings == []


@pytest.mark.parametrize(("pattern", "language", "text"), EXAMPLES)
def test_applying_every_offered_rewrite_to_every_example_leaves_no_serious_finding(pattern, language, text):
    report = coach(text, language)
    offered = [f for f in report.findings if f.suggestion]
    for f in offered:
        fixed = apply(text, f)
        after = coach(fixed, language)
        end = f.replace_start + len(f.suggestion)
        again = [g for g in after.findings if g.pattern == f.pattern and g.start < end and g.end > f.replace_start]
        assert not again, (text, fixed)
    # fix every sentence, last first so that offsets hold: nothing serious is left
    fixed = text
    for f in sorted(offered, key=lambda f: -f.replace_start):
        if f.replace_end <= len(fixed) and fixed[f.start : f.end] == f.words:
            fixed = apply(fixed, f)
    assert coach(fixed, language).serious == [], (text, fixed)


def test_a_flagged_suggestion_is_not_offered():
    # An organisation's rewrite that says what the coach flags: the finding keeps its
    # reason, without the rewrite.
    rules = org_rules(
        [OrgRuleData("policy", "it", ["norme della casa"], suggestion="Mi dispiace, non c'è niente da fare")]
    )
    [f] = coach("Sono le norme della casa.", "it", rules=rules).findings
    assert f.pattern == "policy" and f.reason and f.suggestion == ""
    rules = org_rules([OrgRuleData("policy", "it", ["norme della casa"], suggestion="Vediamo insieme come fare")])
    [f] = coach("Sono le norme della casa.", "it", rules=rules).findings
    assert f.suggestion == "Vediamo insieme come fare"


# -- the score ------------------------------------------------------------------------------

GOOD = [
    (
        "Buongiorno Mario, mi scuso davvero: abbiamo sbagliato noi. Ci pensiamo noi: il pacco nuovo "
        "arriva domani entro le 12.",
        "it",
    ),
    ("Hi Anna, I'm sorry, we got this wrong. I've rebooked you and the new ticket arrives by 5pm today.", "en"),
    ("Grazie, ho verificato.", "it"),
    ("ok", "en"),
]
CONTEXTS = [
    Context(),
    Context(
        customer_language="it",
        name="Mario Bianchi",
        tier="vip",
        customer_messages=["Il pacco è arrivato rotto, siete dei disastri! Quando arriva quello nuovo?"],
    ),
    Context(customer_language="en", name="Anna Smith", customer_messages=["You lost my bag. Where is it?"]),
]


def test_the_issues_case_two_serious_findings_and_bangs_score_below_a_good_italian_reply():
    bad = coach("NON POSSIAMO FARE NULLA!!! È la nostra policy, si rivolga al corriere!!!", "it")
    assert len(bad.serious) >= 2
    good = coach("Buongiorno, ho verificato: il rimborso parte oggi e lo vedrà entro 3 giorni.", "it", CONTEXTS[1])
    assert not good.serious
    assert bad.total < good.total


def test_the_score_is_monotonic_over_every_example_and_context():
    """Property over every rule's examples (plus shouting) against good and weak replies in
    every context: any reply with a serious finding scores below any reply without one."""
    with_serious, without = [], []
    for (_pattern, language, text), context in itertools.product(EXAMPLES, CONTEXTS):
        for draft in (text, text + "!!!", text.upper()):
            report = coach(draft, language, context)
            (with_serious if report.serious else without).append(report.total)
    for (text, language), context in itertools.product(GOOD, CONTEXTS):
        report = coach(text, language, context)
        assert not report.serious, text
        without.append(report.total)
    assert with_serious and without
    assert max(with_serious) <= SERIOUS_CEILING < min(without), (max(with_serious), min(without))


def test_the_real_held_out_replies_are_labels_only_and_keep_their_measured_precision():
    """tests/coach_eval/twcs_heldout*_labels.jsonl hold tweet ids and labels, never the
    CC BY-NC-SA text; the figures in docs/coach.md must not get worse."""
    import json
    from pathlib import Path

    from bench.coach_eval import TWCS_CSV, TWCS_LABELS_2, evaluate, load_twcs_heldout

    for name in ("twcs_heldout_labels.jsonl", TWCS_LABELS_2):
        rows = [json.loads(x) for x in (Path(__file__).parent / "coach_eval" / name).read_text().splitlines()]
        assert len(rows) == 150 and all("text" not in r and r["tweet_id"].isdigit() for r in rows)
        assert {p for r in rows for p in r["patterns"]} <= set(BUILTIN_IDS)
    if not TWCS_CSV.exists():
        pytest.skip("the TWCS sample is not on this machine")
    rows = {r["pattern"]: r for r in evaluate(load_twcs_heldout(labels=TWCS_LABELS_2), similarity=False)["table"]}
    for pattern in ("refusal", "referral"):
        assert rows[pattern]["precision"] >= 0.9, rows[pattern]
        assert rows[pattern]["recall"] >= 0.5, rows[pattern]
