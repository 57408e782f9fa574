"""The reply coach on replies written the way real agents write them (issue 12, acceptance 5):
tweet fragments with signatures, links and phone numbers, transcribed Italian speech. The
sentences here are written for these tests in that style (not copied from any data set); the
real replies are in tests/fixtures/coach_heldout/ and measured by bench/coach_eval.py."""

import json
from pathlib import Path

import pytest

from adesso.coach import learned, similarity
from adesso.coach.engine import coach
from adesso.coach.rules import builtin_rules
from adesso.coach.text import read

HELDOUT = Path(__file__).parent / "fixtures" / "coach_heldout"
# the round files by number (bench.coach_eval.ROUNDS): a glob "round1*" would also match round10
ROUND_FILES = {1: "round1.jsonl", 2: "round2.jsonl", 3: "round3_dev.jsonl", 4: "round4.jsonl", 5: "round5_dev.jsonl",
               6: "round6.jsonl", 7: "round7.jsonl", 8: "round8.jsonl", 9: "round9.jsonl", 10: "round10.jsonl",
               11: "round11.jsonl", 12: "round12.jsonl", 13: "round13.jsonl", 14: "round14.jsonl"}


def patterns_of(text, language):
    return {f.pattern for f in coach(text, language).findings}


@pytest.mark.parametrize(
    ("text", "language", "pattern"),
    [
        # moving the customer to another channel or party, the channel or party named
        ("Please reach us for some live troubleshooting whenever suits: https://example.com/c ^DW", "en", "referral"),
        ("Oh no! Please speak to a member of the cabin crew for help. *AAB", "en", "referral"),
        ("Be sure to report the matter to our Wi-Fi partner on 1-877-555-0100.", "en", "referral"),
        ("For safety reasons only the account holder can contact us about this. ^CO", "en", "referral"),
        ("Is your dad able to contact us directly? ^Davina", "en", "referral"),
        ("Within warranty you can go to the store where you bought it.", "en", "referral"),
        ("Please give us a call so we can go through it: 1-866-555-0142 ^WM", "en", "referral"),
        ("Please tell us more so we can help: https://example.com/feedback -Becky", "en", "referral"),
        ("We'd recommend reporting them directly via the console so the right team sees it.", "en", "referral"),
        ("guardi telefonate a lei così vi spiegate", "it", "referral"),
        ("Per il reso si rivolga al negozio dove l'ha acquistato.", "it", "referral"),
        # a link (or a page) in place of the answer
        ("Still stuck? 1st try: https://example.com/fix", "en", "link_deflection"),
        ("Hello! We have some docs that may help: https://example.com/docs ^MH", "en", "link_deflection"),
        ("Was this shipped by us or a seller? You can check here: https://example.com/o ^BL", "en", "link_deflection"),
        ("You can find helpful troubleshooting tips here https://example.com/tips", "en", "link_deflection"),
        ("Click the link to get started.\nhttps://example.com/start\n^JAY", "en", "link_deflection"),
        ("Provi con questa guida: https://example.it/guida", "it", "link_deflection"),
        # a no with nothing offered
        ("Good afternoon, unfortunately this app is no longer supported. Sincerest apologies. ^JP", "en", "refusal"),
        ("Hi there, we do not have any information on this. ^RK", "en", "refusal"),
        ("Once an account is created the ID can't be changed.", "en", "refusal"),
        ("We wouldn't offer an upgrade for a cancelled flight. ^Helen", "en", "refusal"),
        ("At this point I'm unable to troubleshoot further, sorry.", "en", "refusal"),
        ("Hey there, unfortunately, we are not able to assist with this request. *TLT", "en", "refusal"),
        ("Purtroppo quel servizio non è più disponibile.", "it", "refusal"),
        ("Non abbiamo nessuna informazione sui tempi, mi dispiace.", "it", "refusal"),
        ("Non possiamo fare nulla.", "it", "refusal"),
    ],
)
def test_real_style_sentences_are_flagged_by_the_patterns(text, language, pattern):
    report = coach(text, language)
    assert pattern in {f.pattern for f in report.findings}, text
    assert report.serious


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Please DM us your order number so we can check. ^AB", "en"),
        ("We'll call the store ourselves and get back to you today. -Jen", "en"),
        ("I'll report this to our Wi-Fi partner myself and update you by 5pm.", "en"),
        ("Unfortunately that's not possible, but I can offer you a voucher right away.", "en"),
        ("We don't have an ETA just yet, we'll update you as soon as we hear.", "en"),
        ("We can't access your account via Twitter, so please DM us the email on it.", "en"),
        ("Have you tried restarting the app? Which device are you using?", "en"),
        ("Thanks for the shout out, we'll pass it on to the team! ^SL", "en"),
        ("Glad to hear it's working now. Have a great day! *HKC", "en"),
        ("Here's your tracking page: https://example.com/track/123", "en"),
        ("eccomi qua allora lei si chiama", "it"),
        ("okay allora si chiama la sua collega e le spiega lei", "it"),
        ("c'è una cartella che si chiama programmi, la apra", "it"),
        ("mi chiama il tecnico domattina, tranquillo", "it"),
        ("sì sì la richiamo io tra dieci minuti", "it"),
    ],
)
def test_real_style_good_sentences_are_not_flagged(text, language):
    assert patterns_of(text, language) == set(), text


def test_si_chiama_is_a_name_not_a_referral_while_chiami_il_numero_still_is():
    assert "referral" not in patterns_of("si chiama la sua collega", "it")
    assert "referral" not in patterns_of("ok lei si chiama Rossi giusto", "it")
    assert "referral" in patterns_of("Chiami il numero verde e glielo spiegano.", "it")
    assert "referral" in patterns_of("Telefoni la banca, loro possono aiutarla.", "it")


@pytest.fixture(scope="module")
def layer():
    found = learned.learned_layer(wait=True, max_new=0)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("text", "language", "rule"),
    [
        ("Who advised you to contact us about the upgrade?", "en", "referral"),  # a question sends nobody
        ("booking reference and contact telephone number 2/2", "en", "busy"),  # no anchor of the rule
        ("Please DM us here so we can check your booking: https://example.com/dm", "en", "link_deflection"),
    ],
)
def test_the_learned_layer_needs_the_rules_anchor_and_obeys_its_conditions(layer, text, language, rule):
    draft = read(text, language)
    [(number, _start, end)] = [x for x in draft.sentences() if x[0] == 0][:1]
    r = {x.id: x for x in builtin_rules()}[rule]
    assert not learned.plausible(r, draft, number, end, learned.normalise(draft.text[_start:end]))
    assert rule not in {f.pattern for f in layer(draft, builtin_rules(), set(), "en")}


def test_the_learned_layer_leaves_a_sentence_a_pattern_flagged_to_the_pattern(layer):
    text = "Please reach us here: https://example.com/contact ^AG"
    report = coach(text, "en", learned=layer, similarity=similarity.similarity_layer(wait=True))
    assert [(f.pattern, f.layer) for f in report.findings] == [("referral", "pattern")]


def test_round_3_is_a_labelled_development_round_of_real_replies():
    rows = [json.loads(line) for line in (HELDOUT / "round3_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 500 and all(r["round"] == "3-development" for r in rows)
    assert {r["source"] for r in rows} == {"twcs", "luna", "pages"}
    positives = [p for r in rows for p in r["patterns"]]
    assert positives.count("referral") >= 25 and positives.count("link_deflection") >= 12
    assert positives.count("refusal") >= 8


def test_round_4_is_held_out_real_replies_outside_every_other_round_and_the_training_sentences():
    training = {learned.normalise(t).lower() for t, _lang, _ids in learned.training_examples()}
    rows = [json.loads(line) for line in (HELDOUT / "round4.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 500 and all(r["round"] == "4-held-out" for r in rows)
    assert {r["source"] for r in rows} == {"twcs", "luna", "pages"}
    assert not training & {learned.normalise(r["text"]).lower() for r in rows}
    earlier = {
        (r["source"], r.get("tweet_id") or r.get("url") or f"{r.get('doc_id')}:{r.get('turn')}")
        for name in ("round1.jsonl", "round2.jsonl", "round3_dev.jsonl")
        for r in map(json.loads, (HELDOUT / name).read_text(encoding="utf-8").splitlines())
    }
    mine = {(r["source"], r.get("tweet_id") or r.get("url") or f"{r.get('doc_id')}:{r.get('turn')}") for r in rows}
    assert not earlier & mine


def test_the_development_rounds_keep_the_patterns_precise():
    from bench.coach_eval import load_real, score

    for number in (1, 3):
        table = score(load_real(number), lambda c: {f.pattern for f in coach(c["text"], c["language"]).findings})
        for rule in ("referral", "refusal") if number == 3 else ("referral",):  # round 1: 2 refusals only
            row = table["table"][rule]
            assert row["precision"] is None or row["precision"] >= 0.9, (number, rule, row)
        assert table["table"]["referral"]["recall"] >= 0.9, (number, table["table"]["referral"])


# -- session 7: development round 5, held-out round 6 ------------------------------------------


def _key(r: dict) -> tuple[str, str]:
    return r["source"], str(r.get("tweet_id") or r.get("url") or f"{r.get('doc_id')}:{r.get('turn')}")


def _round(n: int) -> list[dict]:
    """Round n's sentences."""
    return [json.loads(x) for x in (HELDOUT / ROUND_FILES[n]).read_text(encoding="utf-8").splitlines()]


def _rounds_before(n: int) -> list[dict]:
    """The sentences of rounds 1 to n - 1."""
    return [r for m in range(1, n) for r in _round(m)]


def _evaluation_texts() -> set[str]:
    """The texts of tests/coach_eval."""
    evaluation = Path(__file__).parent / "coach_eval"
    return {json.loads(x).get("text", "").strip() for f in evaluation.glob("*.jsonl")
            for x in f.read_text(encoding="utf-8").splitlines() if x.strip()}


def test_round_5_is_a_labelled_development_round_and_round_6_is_held_out_outside_every_other_set():
    rows5 = [json.loads(x) for x in (HELDOUT / "round5_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    rows6 = [json.loads(x) for x in (HELDOUT / "round6.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows5) >= 800 and all(r["round"] == "5-dev" for r in rows5)
    assert len(rows6) >= 800 and all(r["round"] == "6-held-out" for r in rows6)
    assert {r["source"] for r in rows6} == {"twcs", "luna", "pages"}
    positives = [p for r in rows5 for p in r["patterns"]]
    assert positives.count("referral") >= 30 and positives.count("link_deflection") >= 12
    earlier = {_key(r) for name in ("round1.jsonl", "round2.jsonl", "round3_dev.jsonl", "round4.jsonl")
               for r in map(json.loads, (HELDOUT / name).read_text(encoding="utf-8").splitlines())}
    in5, in6 = {_key(r) for r in rows5}, {_key(r) for r in rows6}
    assert not earlier & in5 and not earlier & in6 and not in5 & in6
    # our own sentences (the real ones of training/real_en.tsv: the last test of this file)
    training = {learned.normalise(t).lower() for t, _lang, _ids in learned.training_examples(real=False)}
    # (short stock phrases such as "No worries at all" are in both by chance: the layer reads
    # sentences of MIN_WORDS words or more)
    assert not training & {learned.normalise(r["text"]).lower() for r in rows5 + rows6
                           if len(r["text"].split()) >= learned.MIN_WORDS}


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # a page or a number the customer must use, even with "we can look into it" after it
        ("Please contact us by phone or chat and we can look into this: https://example.com/help", "en",
         {"referral"}),
        ("Give them a call on 1-800-555-0100 to get it sorted.", "en", {"referral"}),
        ("We'd be glad to look into this with you here: https://example.com/contact", "en", {"referral"}),
        ("Share your feedback with the team here: https://example.com/f", "en", {"referral"}),
        ("Damage has to be assessed in person at the airport.", "en", {"referral"}),
        ("That one is a question for your local branch.", "en", {"referral"}),
        ("Io purtroppo non sono del reparto fatture.", "it", {"referral"}),
        # a page given for the answer
        ("Please see here for the timetable.", "en", {"link_deflection"}),
        ("For help getting started: https://example.com/start", "en", {"link_deflection"}),
        ("Have you checked the options at https://example.com/options yet?", "en", {"link_deflection"}),
        ("Per maggiori informazioni: https://example.it/info", "it", {"link_deflection"}),
        # the other rules' new shapes
        ("At the moment that plan is not available.", "en", {"refusal"}),
        ("È così per tutti, non è la prima chiamata di questo tipo.", "it", {"not_special"}),
        ("The delay is due to air traffic restrictions.", "en", {"blame_supplier"}),
        ("Due to our policy we will need to speak with the account holder.", "en", {"policy"}),
        # not flagged
        ("Send us a DM and we'll look into it: https://example.com/dm", "en", set()),
        ("I doubt it... https://example.com/photo", "en", set()),
        ("Before I call the store, could you confirm the order number?", "en", set()),
        ("We already called the store and they have your parcel.", "en", set()),
        ("We'll contact the carrier ourselves and update you today.", "en", set()),
    ],
)
def test_session_7_shapes(text, language, expected):
    assert {f.pattern for f in coach(text, language).findings} == expected, text


def test_the_development_rounds_2_and_5_keep_the_patterns_precise_and_find_most():
    from bench.coach_eval import load_real, score

    for number in (2, 5):
        table = score(load_real(number), lambda c: {f.pattern for f in coach(c["text"], c["language"]).findings})
        referral = table["table"]["referral"]
        assert referral["precision"] >= 0.9 and referral["recall"] >= 0.85, (number, referral)
        deflection = table["table"]["link_deflection"]
        assert deflection["precision"] >= 0.8 and deflection["recall"] >= 0.75, (number, deflection)


# -- session 8: held-out round 7, development rounds 1-6 ------------------------------------------


def test_round_7_is_held_out_outside_every_other_round_and_the_evaluation_sets():
    rows7 = [json.loads(x) for x in (HELDOUT / "round7.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows7) >= 800 and all(r["round"] == "7-held-out" for r in rows7)
    assert {r["source"] for r in rows7} == {"twcs", "luna"}
    replies = {_key(r) for r in rows7}
    assert len(replies) >= 250
    others = _rounds_before(7)
    assert not {_key(r) for r in others} & replies
    # by text too: no reply of round 7 is a reply (or a tests/coach_eval case) of another set
    texts = {r["reply"].strip() for r in others} | _evaluation_texts()
    assert not texts & {r["reply"].strip() for r in rows7}
    training = {learned.normalise(t).lower() for t, _lang, _ids in learned.training_examples(real=False)}
    assert not training & {learned.normalise(r["text"]).lower() for r in rows7
                           if len(r["text"].split()) >= learned.MIN_WORDS}


def test_the_development_rounds_1_to_6_keep_the_patterns_precise_and_find_most():
    from bench.coach_eval import load_real, score

    for number in range(1, 7):
        table = score(load_real(number), lambda c: {f.pattern for f in coach(c["text"], c["language"]).findings})
        referral, deflection = table["table"]["referral"], table["table"]["link_deflection"]
        assert referral["precision"] >= 0.95 and referral["recall"] >= 0.9, (number, referral)
        assert deflection["precision"] is None or deflection["precision"] >= 0.8, (number, deflection)
        assert deflection["recall"] >= 0.75, (number, deflection)


# -- session 9: held-out round 8, another data set -------------------------------------------------


def test_round_8_is_held_out_from_another_data_set_outside_every_other_set():
    rows8 = _round(8)
    assert len(rows8) >= 350 and all(r["round"] == "8-held-out" for r in rows8)
    assert {r["source"] for r in rows8} == {"cdp"}
    replies = {_key(r) for r in rows8}
    assert len(replies) >= 110
    labelled = {p: len({_key(r) for r in rows8 if p in r["patterns"]})
                for p in ("referral", "link_deflection", "policy")}
    assert labelled["referral"] >= 30 and labelled["link_deflection"] >= 40 and labelled["policy"] >= 5
    texts = {r["reply"].strip() for r in _rounds_before(8)} | _evaluation_texts()
    assert not texts & {r["reply"].strip() for r in rows8}
    # (since session 9, later, rounds 8-10 are training material: our own sentences are not in them)
    training = {learned.normalise(t).lower() for t, _lang, _ids in learned.training_examples(real=False)}
    # a greeting our own training sentences share with one of its replies, nothing else
    assert training & {learned.normalise(r["text"]).lower() for r in rows8
                       if len(r["text"].split()) >= learned.MIN_WORDS} <= {"hi there, thanks for getting in touch"}


def test_round_9_is_held_out_from_the_other_split_of_that_data_set_outside_every_other_set():
    rows9 = _round(9)
    assert len(rows9) >= 240 and all(r["round"] == "9-held-out" for r in rows9)
    assert {r["source"] for r in rows9} == {"cdp"}
    replies = {_key(r) for r in rows9}
    assert len(replies) >= 90
    others = _rounds_before(9)
    texts = {r["reply"].strip() for r in others} | _evaluation_texts()
    assert not texts & {r["reply"].strip() for r in rows9}
    assert not replies & {_key(r) for r in others}


def test_round_8_as_a_development_round_keeps_what_session_9_found():
    from bench.coach_eval import load_real, score

    table = score(load_real(8), lambda c: {f.pattern for f in coach(c["text"], c["language"]).findings})["table"]
    referral, deflection, policy = table["referral"], table["link_deflection"], table["policy"]
    assert referral["precision"] >= 0.95 and referral["recall"] >= 0.9, referral
    assert deflection["precision"] >= 0.85 and deflection["recall"] >= 0.8, deflection
    assert policy["recall"] >= 0.8, policy


def test_round_10_is_held_out_outside_every_other_set():
    rows10 = _round(10)
    assert len(rows10) >= 120 and all(r["round"] == "10-held-out" for r in rows10)
    replies = {_key(r) for r in rows10}
    assert len(replies) >= 40
    others = _rounds_before(10)
    assert not replies & {_key(r) for r in others}
    assert not {r["reply"].strip() for r in rows10} & {r["reply"].strip() for r in others}


def test_round_11_is_held_out_outside_every_other_set():
    rows11 = _round(11)
    assert len(rows11) >= 350 and all(r["round"] == "11-held-out" for r in rows11)
    replies = {_key(r) for r in rows11}
    assert len(replies) >= 100
    others = _rounds_before(11)
    assert not replies & {_key(r) for r in others}
    texts = {r["reply"].strip() for r in others} | _evaluation_texts()
    assert not {r["reply"].strip() for r in rows11} & texts
    training = {learned.normalise(t).lower() for t, _lang, _ids in learned.training_examples()}
    assert not training & {learned.normalise(r["text"]).lower() for r in rows11
                           if len(r["text"].split()) >= learned.MIN_WORDS}


@pytest.mark.parametrize(
    ("text", "language", "pattern"),
    [
        # session 9, last: the grammar of round 11's misses (a development round now), written for
        # these tests, in English and Italian
        ("Why not share this as a feature request here? https://example.com/g", "en", "referral"),
        ("We'd recommend posting the idea on our Community: https://example.com/h", "en", "referral"),
        ("You can get more help from our billing specialists here: https://example.com/i", "en", "referral"),
        ("Please follow this link so we can help you personally: https://example.com/j", "en", "referral"),
        ("Please use this link to create a ticket: https://example.com/k", "en", "referral"),
        ("You can report it here: https://example.com/l", "en", "referral"),
        ("To report the seller to the appropriate team, please see https://example.com/m", "en", "referral"),
        ("La invii come richiesta di funzionalità qui: https://example.it/g", "it", "referral"),
        ("Le consiglio di pubblicare la sua idea sulla nostra community.", "it", "referral"),
        ("Può ricevere ulteriore supporto dai nostri consulenti a questo link: https://example.it/h", "it", "referral"),
        ("Usi questo link per aprire un ticket: https://example.it/j", "it", "referral"),
        ("Does this help article solve it? https://example.com/a", "en", "link_deflection"),
        ("I found a guide that is related to your error. Check it out: https://example.com/b", "en", "link_deflection"),
        ("Find out what we're changing this month. https://example.com/c", "en", "link_deflection"),
        ("Please use the document link below to troubleshoot the scanner: https://example.com/d", "en",
         "link_deflection"),
        ("Here's a list of things to check first: https://example.com/e", "en", "link_deflection"),
        ("Sorry for the trouble. Check out: https://example.com/x for what to do next. You can find the steps "
         "under the second heading. Give us a shout if you have any other questions /JF", "en", "link_deflection"),
        ("Questo articolo le risolve il problema? https://example.it/a", "it", "link_deflection"),
        ("Ho trovato un articolo che riguarda proprio questo errore: https://example.it/b", "it", "link_deflection"),
        ("Usi il link qui sotto per risolvere il problema della stampante: https://example.it/d", "it",
         "link_deflection"),
        ("Ecco un elenco di cose da controllare: https://example.it/e", "it", "link_deflection"),
    ],
)
def test_session_9_last_shapes_are_flagged(text, language, pattern):
    assert pattern in patterns_of(text, language), text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Can you share the log file with us? Steps here: https://example.com/n We will send that to our "
         "engineers today.", "en"),
        ("Your flight was cancelled, but you can get rebooked here: https://example.com/o", "en"),
        ("You can check your flight status here: https://example.com/s", "en"),
        ("We'll share this as a feature request with the team.", "en"),
        ("I've posted your idea on our Community for you and will update you.", "en"),
    ],
)
def test_session_9_last_not_a_referral_nor_a_link_deflection(text, language):
    assert not patterns_of(text, language) & {"referral", "link_deflection"}, text


def test_round_12_is_held_out_outside_every_other_set():
    rows12 = _round(12)
    assert len(rows12) >= 190 and all(r["round"] == "12-held-out" for r in rows12)
    replies = {_key(r) for r in rows12}
    assert len(replies) >= 60
    others = _rounds_before(12)
    assert not replies & {_key(r) for r in others}
    texts = {r["reply"].strip() for r in others} | _evaluation_texts()
    assert not {r["reply"].strip() for r in rows12} & texts


def test_round_13_is_held_out_outside_every_other_set():
    rows13 = _round(13)
    assert len(rows13) >= 250 and all(r["round"] == "13-held-out" for r in rows13)
    replies = {_key(r) for r in rows13}
    assert len(replies) >= 90
    others = _rounds_before(13)
    assert not replies & {_key(r) for r in others}
    texts = {r["reply"].strip() for r in others} | _evaluation_texts()
    assert not {r["reply"].strip() for r in rows13} & texts


def test_round_14_is_held_out_outside_every_other_set():
    rows14 = _round(14)
    assert len(rows14) >= 250 and all(r["round"] == "14-held-out" for r in rows14)
    replies = {_key(r) for r in rows14}
    assert len(replies) >= 85
    others = _rounds_before(14)
    assert not replies & {_key(r) for r in others}
    texts = {r["reply"].strip() for r in others} | _evaluation_texts()
    assert not {r["reply"].strip() for r in rows14} & texts


def test_the_real_training_replies_are_the_apache_data_set_s_with_attribution_never_twcs_nor_luna():
    path = Path(learned.TRAINING) / "real_en.tsv"
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert any("IBM/twitter-customer-care-document-prediction" in line for line in header)
    assert any("Apache License" in line for line in header)
    real = {learned.normalise(t).lower() for t, _l, _ids in learned.training_examples(real=True)} - {
        learned.normalise(t).lower() for t, _l, _ids in learned.training_examples(real=False)}
    assert len(real) >= 400
    # courtesy that agents of both data sets write word for word, nothing else
    stock = {"thanks for reaching out to us", "thank you for your patience", "thanks for letting us know",
             "we are here to help", "thank you for your reply"}
    for number in range(1, 8):  # TWCS and LUNA (CC BY-NC-SA): evaluation only
        rows = [json.loads(x) for x in (HELDOUT / ROUND_FILES[number]).read_text(encoding="utf-8").splitlines()]
        assert all(r["source"] != "cdp" for r in rows)
        assert real & {learned.normalise(r["text"]).lower() for r in rows} <= stock, number


# -- session 10: what the pointing sentence sends the customer to read ------------------------------
# A link for how (the steps, the instructions, "check out how here") is the answer behind the link
# even after a sentence or two of explanation; a link for more beside an answer is fine. Sentences
# written for these tests, in English and Italian (none of them from a round).


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hi Maria, thanks for getting in touch. The scanner sometimes loses its calibration after a "
         "firmware update and needs to be set up again. The steps to calibrate it are here: "
         "https://example.com/p", "en"),
        ("Sorry about that! Your router keeps an old address after the move, which is why the line "
         "drops every evening. Check out how to refresh it here: https://example.com/q", "en"),
        ("Thanks for the screenshot. That error means the sync service stopped on your laptop, which "
         "happens after a password change. Please follow the instructions in this article: "
         "https://example.com/r", "en"),
        ("The plug-in stopped loading because the last update moved its folder, so the editor no longer "
         "finds it on start. To reinstall it, follow: https://example.com/ri", "en"),
        ("Il plug-in non si carica più perché l'ultimo aggiornamento ha spostato la sua cartella e l'editor "
         "non lo trova all'avvio. Per reinstallarlo, segua: https://example.it/ri", "it"),
        ("Buongiorno, il lettore perde la taratura dopo ogni aggiornamento del firmware e va "
         "reimpostato da capo ogni volta. Trova le istruzioni per la taratura qui: https://example.it/p",
         "it"),
    ],
)
def test_session_10_a_link_for_how_is_a_deflection_after_an_explanation(text, language):
    assert "link_deflection" in patterns_of(text, language), text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # an answer, then a link for more
        ("Yes, the blue model fits the older stands as well as the new ones, and the screws come in the "
         "box. You can read more about the stands here: https://example.com/s", "en"),
        ("The offer runs until the end of the month and applies to every plan we sell, renewals "
         "included. More details: https://example.com/t", "en"),
        # the steps given in the reply, the link for the same steps with pictures
        ("Go to Settings > Account > Email, type the new address and save. The steps with screenshots "
         "are here: https://example.com/u", "en"),
        ("Apra l'app, vada su Profilo e tocchi Modifica, poi salvi il nuovo indirizzo. Se serve, qui c'è "
         "la guida con le immagini: https://example.it/u", "it"),
        # a link to send something to the company is no link instead of an answer
        ("Thanks for spotting the fake message and for warning us about it. We collect every such email "
         "to block the sender. Follow the steps here to get it sent over: https://example.com/v", "en"),
    ],
)
def test_session_10_a_link_for_more_beside_an_answer_is_fine(text, language):
    assert "link_deflection" not in patterns_of(text, language), text


@pytest.mark.parametrize(
    ("text", "language", "pattern"),
    [
        # a step and a link for how, with no pointing verb the earlier grammar knew
        ("For the moment you will need to delete the old device by hand: https://example.com/w", "en",
         "link_deflection"),
        ("You can try turning off the battery saver: https://example.com/x", "en", "link_deflection"),
        ("Here are some tips on how to speed up the app: https://example.com/y", "en", "link_deflection"),
        ("To set up the printer again, follow: https://example.com/z", "en", "link_deflection"),
        ("Per ora dovrà eliminare il vecchio dispositivo a mano: https://example.it/w", "it", "link_deflection"),
        ("Ecco alcuni consigli su come velocizzare l'app: https://example.it/y", "it", "link_deflection"),
        # voting on a report, going to a forum or a community, another (paid) service
        ("Until it is fixed, please upvote the bug report here: https://example.com/bug", "en", "referral"),
        ("Please head over to the developer forum and post your idea there.", "en", "referral"),
        ("You can suggest any improvements you would like to see for the calendar in our Community at "
         "https://example.com/c", "en", "referral"),
        ("For a site like yours you could use our managed services instead.", "en", "referral"),
        ("Nel frattempo voti la segnalazione sul nostro forum: https://example.it/bug", "it", "referral"),
        ("Vada nella nostra community e pubblichi lì la sua proposta.", "it", "referral"),
        ("Per un sito come il suo può usare il nostro servizio gestito a pagamento.", "it", "referral"),
    ],
)
def test_session_10_shapes_are_flagged(text, language, pattern):
    assert pattern in patterns_of(text, language), text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("We've upvoted the bug report for you and will update you when it ships.", "en"),
        ("You can track the fix by adding your vote on the tracker, which our engineers watch: "
         "https://example.com/t", "en"),
        ("Try contacting the store team here for a refund: https://example.com/st", "en"),
    ],
)
def test_session_10_not_a_referral_nor_a_deflection(text, language):
    found = patterns_of(text, language)
    assert "link_deflection" not in found, text
    if "contacting" not in text:
        assert "referral" not in found, text


# -- session 10, later: where the link goes, and one reading per link --------------------------------
# A link to a contact page, a request form or a feedback board is a referral whatever words send the
# customer there, and not also a deflection; a link for more beside a referral goes with it; a link that
# shows where to find what the agent asks is no deflection; a link to a help article pointed at with a
# colon, in a reply that explains nothing else, is one. Sentences written for these tests (none from a round).


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("1) Open https://example.com/contact-us 2) Pick your product. 3) Choose a time for the callback.", "en"),
        ("Could you jot down a few lines about what happened here: https://help.example.com/hc/en-us/requests/new",
         "en"),
        ("Any thoughts on the new editor are welcome at https://example.uservoice.com/forums/123", "en"),
        ("In case it got lost, here's the link: https://example.com/customer-service-phone-numbers", "en"),
        ("Apra https://example.it/contattaci e scelga il prodotto dall'elenco.", "it"),
        ("Tutte le idee sono benvenute qui: https://example.it/feedback", "it"),
    ],
)
def test_session_10_later_a_link_to_a_contact_page_or_a_form_is_a_referral_not_a_deflection(text, language):
    found = patterns_of(text, language)
    assert "referral" in found and "link_deflection" not in found, text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("You can follow the progress of the fix on our feedback board: https://example.com/feedback", "en"),
        ("We have added your vote for you; you can track the status on https://example.com/feedback/42", "en"),
        ("Segua l'avanzamento della correzione sulla nostra pagina: https://example.it/segnalazioni", "it"),
    ],
)
def test_session_10_later_a_board_to_follow_what_the_agent_owns_is_no_referral(text, language):
    assert "referral" not in patterns_of(text, language), text


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # the answer before "For more information visit": the sentence before the full stop is the answer
        ("Yes, the app works offline once the maps are downloaded to the phone and refreshed from the settings "
         "page. For more information visit: https://example.com/m", "en", set()),
        # a link for more beside a referral goes with the referral
        ("Please call our billing line at 1-800-555-0199 about the charge. For more details, see "
         "https://example.com/billing", "en", {"referral"}),
        ("Chiami il numero 800 123 456 per l'addebito. Per maggiori dettagli veda https://example.it/addebiti", "it",
         {"referral"}),
        # where to find what the agent has just asked for
        ("Which carrier delivered it? You can see that information here: https://example.com/orders", "en", set()),
        ("Quale corriere l'ha consegnato? Trova questa informazione qui: https://example.it/ordini", "it", set()),
        # a help article pointed at with a colon, nothing explained around it
        ("Are you still seeing it? It may be this known issue: https://help.example.com/kb/12345", "en",
         {"link_deflection"}),
        ("Vede ancora l'errore? Potrebbe essere questo problema noto: https://aiuto.example.it/articles/123", "it",
         {"link_deflection"}),
        # "more steps" are still the steps; a commitment explains nothing
        ("Try restarting the router first. More steps here: https://example.com/steps", "en", {"link_deflection"}),
        ("Hi Sam. Our bank is committed to helping customers through hard times, wherever they are. For additional "
         "information, please visit: https://example.com/h", "en", {"link_deflection"}),
        # other parties, worded otherwise
        ("For that model please reach out the manufacturer.", "en", {"referral"}),
        ("You will want to work with your bank to reverse the charge.", "en", {"referral"}),
    ],
)
def test_session_10_later_one_reading_per_link(text, language, expected):
    found = patterns_of(text, language) & {"referral", "link_deflection"}
    assert found == expected, text


def test_session_10_later_the_address_is_read_without_its_query_and_a_page_that_can_help_is_no_step():
    # an appeal page whose sign-in link carries "contact" only in its query string sends nobody elsewhere
    appeal = ("If you think this was a mistake, you can appeal here: "
              "https://accounts.example.com/login?continue=https://help.example.com/contact/suspended")
    assert "referral" not in patterns_of(appeal, "en")
    # "this page can help you check …: <link>" after an answer is a link for more, not a step of the customer's
    answered = ("The new plan renews on the first of every month and the price stays the same for the first year "
                "of the contract. This page can help you check your own renewal date: https://example.com/renewals")
    assert "link_deflection" not in patterns_of(answered, "en")
