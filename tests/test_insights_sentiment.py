"""Sentiment on the company's own server: the API, live analysis of customer messages
by the worker, an organisation's own classifier, and the shipped one reproducible."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from django.core.management import call_command

from adesso.accounts.models import Role
from adesso.conversations.models import Message
from adesso.insights import sentiment
from adesso.insights.models import MessageSentiment, SentimentModel
from adesso.ops.timers import tick
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db

# Written for this test (not in the training examples): plain praise and complaints
# as customers of other trades write them, in both languages.
CASES = [
    ("La lavatrice è arrivata in perfetto stato e il montatore è stato bravissimo.", "positive"),
    ("Siete stati gentilissimi, la pratica è stata chiusa in un giorno.", "positive"),
    ("Da un mese aspetto il rimborso e nessuno mi risponde, vergognoso.", "negative"),
    ("La bolletta è sbagliata per la terza volta, sono esasperata.", "negative"),
    ("The plumber you sent was punctual, tidy and very kind.", "positive"),
    ("My subscription renewal was smooth and the price stayed the same, thanks!", "positive"),
    ("The charger you sent is broken and nobody answers my emails.", "negative"),
    ("Three weeks without a working phone line, this is unacceptable.", "negative"),
]


def test_the_api_says_each_text_sentiment_in_order():
    org = make_org("Ottica Serra")
    rita = AgentApi(make_agent(org, "Rita"))
    r = rita.post("/insights/sentiment", {"texts": [t for t, _ in CASES]})
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["label"] for x in results] == [label for _, label in CASES]
    for x in results:
        assert -1 <= x["score"] <= 1 and 0 < x["confidence"] <= 1
        assert (x["score"] > 0) == (x["label"] == "positive")


def test_bad_input_is_refused_with_a_clear_error():
    org = make_org("Ottica Serra")
    rita = AgentApi(make_agent(org, "Rita"))
    assert rita.post("/insights/sentiment", {"texts": []}).status_code == 422
    assert rita.post("/insights/sentiment", {"texts": ["ok"] * 1001}).status_code == 422
    assert rita.post("/insights/sentiment", {"texts": [1, True]}).status_code == 422
    assert rita.post("/insights/sentiment", {"texts": ["ok"], "language": "fr"}).status_code == 422
    anonymous = rita.client.post("/api/v1/insights/sentiment", {"texts": ["ok"]}, content_type="application/json")
    assert anonymous.status_code == 401


def test_customer_messages_are_analysed_by_the_worker_as_they_arrive(settings):
    settings.INSIGHTS_ANALYSE_LIVE = True
    org = make_org("Ferramenta Greco")
    ch = make_api_channel(org)
    customer_writes(ch, "Il trapano che mi avete venduto si è rotto dopo un giorno, pessimo.", sender_id="a")
    customer_writes(ch, "Grazie mille, il nuovo trapano funziona benissimo!", sender_id="b")
    done = tick()
    assert done["sentiment"] == 1
    found = {s.message.text[:10]: s.label for s in MessageSentiment.objects.select_related("message")}
    assert found == {"Il trapano": "negative", "Grazie mil": "positive"}
    # Nothing is analysed twice, and the next tick has nothing to do.
    assert tick()["sentiment"] == 0
    assert MessageSentiment.objects.count() == Message.objects.filter(direction="incoming").count()


def test_analysis_can_be_turned_off(settings):
    settings.INSIGHTS_ANALYSE_LIVE = False
    ch = make_api_channel(make_org("Ferramenta Greco"))
    customer_writes(ch, "Pessimo servizio.")
    assert tick()["sentiment"] == 0
    assert not MessageSentiment.objects.exists()


def _own_examples(path, n=80):
    # An organisation whose customers call a late delivery "puntuale come sempre" with
    # sarcasm would label it 1; here: its CSAT answers, a score 1-5 as the label.
    rows = []
    for i in range(n):
        if i % 2:
            rows.append({"text": f"Consegna numero {i} arrivata in ritardo, ancora una volta.", "label": "1"})
        else:
            rows.append({"text": f"Ordine {i} ricevuto, tutto in ordine, grazie.", "label": "5"})
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(rows)


def test_an_organisation_trains_its_own_and_uses_it_only_if_better(tmp_path):
    org = make_org("Vivaio Conti")
    path = tmp_path / "csat.csv"
    _own_examples(path)
    call_command("trainsentiment", organization=org.code, examples=path)
    own = SentimentModel.objects.get(organization=org)
    assert own.examples == 80
    assert own.in_use == (own.accuracy > own.shipped_accuracy)
    expected = sentiment.classifier_for(org)
    if own.in_use:
        assert expected is not sentiment.shipped_classifier()
    else:
        assert expected is sentiment.shipped_classifier()


def test_bad_training_files_get_a_clear_error(tmp_path):
    from django.core.management.base import CommandError

    org = make_org("Vivaio Conti")
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nbello,forse\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2"):
        call_command("trainsentiment", organization=org.code, examples=path)
    with pytest.raises(CommandError, match="No organisation"):
        call_command("trainsentiment", organization="nobody", examples=path)


def test_the_shipped_classifier_is_rebuilt_from_the_shipped_examples(tmp_path, monkeypatch):
    target = tmp_path / "sentiment.npz"
    monkeypatch.setattr("adesso.insights.management.commands.trainsentiment.SHIPPED", target)
    call_command("trainsentiment")
    rebuilt = sentiment.Classifier.from_bytes(target.read_bytes())
    shipped = sentiment.shipped_classifier()
    texts = [t for t, _ in CASES]
    vectors = sentiment.embed(texts)
    assert np.allclose(
        sentiment.probabilities(rebuilt, texts, vectors), sentiment.probabilities(shipped, texts, vectors), atol=1e-3
    )


def test_links_and_handles_do_not_sway_the_label():
    assert sentiment.normalise("@AcmeHelp  thanks!! https://t.co/x &amp; more") == "thanks!! & more"
    assert len(sentiment.normalise("a" * 10_000)) <= sentiment.MAX_CHARS


def test_a_long_review_is_read_head_and_tail_and_sentence_by_sentence():
    # Past what the encoder reads, the head and the tail are kept: the verdict often
    # comes last.
    long = "Arrivato in tempo. " + "Il manuale descrive ogni funzione. " * 100 + "Alla fine l'ho restituito, pessimo."
    seen = sentiment.normalise(long)
    assert len(seen) <= sentiment.MAX_CHARS
    assert seen.startswith("Arrivato in tempo.") and seen.endswith("l'ho restituito, pessimo.")
    assert sentiment.sentences("Ottimo prodotto.Consegna veloce! Unica pecca il cavo. Ok") == [
        "Ottimo prodotto.",
        "Consegna veloce!",
        "Unica pecca il cavo. Ok",
    ]
    # Written for this test: Carla's blender, a long review of several sentences,
    # mostly praise with one flaw named; and Piero's, mostly complaint.
    carla = (
        "Ho comprato questo frullatore per i frullati del mattino. Trita la frutta congelata in pochi secondi "
        "e si lava in un attimo sotto il rubinetto. Il bicchiere è solido e il coperchio non perde. "
        "È un po' rumoroso, ma lo rifarei subito."
    )
    piero = (
        "Il frullatore è arrivato puntuale e la scatola era integra. Dopo tre giorni il motore puzzava di "
        "bruciato e la lama si è bloccata. L'assistenza non ha mai risposto alle mie mail, né al telefono. "
        "Soldi buttati."
    )
    calls: list[list[str]] = []

    def encode(texts):
        calls.append(list(texts))
        return sentiment.embed(texts)

    p = sentiment.probabilities(sentiment.shipped_classifier(), [carla, piero, "Ottimo."], encode=encode)
    assert p[0, 0] > p[0, 1] and p[1, 1] > p[1, 0]
    # The whole texts, then the sentences of the two long ones only.
    assert len(calls) == 2 and len(calls[1]) == len(sentiment.sentences(carla)) + len(sentiment.sentences(piero))


def test_supervisors_and_admins_may_call_it_too():
    org = make_org("Ottica Serra")
    for role in (Role.SUPERVISOR, Role.ADMIN):
        api = AgentApi(make_agent(org, "Sara", role=role))
        assert api.post("/insights/sentiment", {"texts": ["Tutto perfetto"]}).status_code == 200


def test_a_repeated_text_is_encoded_once(monkeypatch):
    # A batch's duplicates, and a text read again later (the same API call repeated, a
    # review's sentences), come from the encoder's cache.
    model = sentiment._encoder._model()
    real = model.query
    seen: list[str] = []

    def query(texts):
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(model, "query", query)
    text = "Frullatore 7781 arrivato ieri, funziona benissimo."
    first = sentiment.embed([text, text, "Frullatore 7781: il coperchio perde."])
    again = sentiment.embed([f"  {text} "])
    assert seen.count(text) == 1 and len(seen) == 2
    assert np.allclose(first[0], first[1]) and np.allclose(first[0], again[0])


def test_evalsentiment_reports_accuracy_and_macro_f1_on_every_set(tmp_path):
    # A small sample of the session 7 sets and the external one, measured with a
    # classifier file given by path (--model), as docs/insights.md reproduces them.
    from io import StringIO

    out = StringIO()
    call_command(
        "evalsentiment", sets="reviews7_en,yelp_en", limit=12, model=sentiment.SHIPPED, cache=tmp_path, stdout=out
    )
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["reviews7_en", "yelp_en"]
    assert all("positive vs negative accuracy" in line and "three-class macro-F1" in line for line in lines)
    assert list(tmp_path.glob("vectors-*.npy"))
