"""Leave-one-file-out cross-validation of the sentiment examples (docs/insights.md,
Session 8): how examples and the penalty are chosen without any evaluation set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.core.management import call_command

from adesso.insights import sentiment


def write(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("# a comment\n" + "".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")
    return path


def words(texts: list[str]) -> np.ndarray:
    """A stand-in encoder: one number for "good", one for "bad"."""
    return np.array([[float("good" in t), float("bad" in t)] for t in texts])


def test_each_file_is_measured_by_a_classifier_trained_on_the_others(tmp_path):
    a = write(tmp_path / "a.tsv", [("pos", "good room"), ("neg", "bad room"), ("neu", "a room")])
    b = write(tmp_path / "b.tsv", [("pos", "good food"), ("neg", "bad food")])
    # Labelled the wrong way round: measured, never trained on, so the others stay right.
    flipped = write(tmp_path / "flipped.tsv", [("neg", "good bed"), ("pos", "bad bed")])
    found = sentiment.leave_one_file_out([a, b], encode=words, measured=[flipped])
    assert found == {"a.tsv": 1.0, "b.tsv": 1.0, "flipped.tsv": 0.0}
    # Trained on, the flipped file confuses the classifier its neighbours are measured by.
    trained = sentiment.leave_one_file_out([a, b, flipped], encode=words)
    assert trained["a.tsv"] < 1.0 and trained["b.tsv"] < 1.0


def test_the_command_prints_each_file_and_the_means_and_writes_nothing(tmp_path, monkeypatch, capsys):
    a = write(tmp_path / "sentiment_a.tsv", [("pos", "good room"), ("neg", "bad room")])
    b = write(tmp_path / "sentiment_b.tsv", [("pos", "good food"), ("neg", "bad food")])
    extra = write(tmp_path / "extra.tsv", [("pos", "good bed"), ("neg", "bad bed")])
    monkeypatch.setattr("adesso.insights.management.commands.trainsentiment.shipped_files", lambda: [a, b])
    monkeypatch.setattr("adesso.insights.sentiment.shipped_files", lambda: [a, b])
    monkeypatch.setattr(sentiment, "embed", words)
    target = tmp_path / "sentiment.npz"
    monkeypatch.setattr("adesso.insights.management.commands.trainsentiment.SHIPPED", target)
    call_command("trainsentiment", cross_validate=True, also=[extra], l2=3e-4)
    out = capsys.readouterr().out
    assert "3 files trained on, 0 only measured, l2 0.0003" in out
    assert "sentiment_a.tsv: 1.000" in out and "extra.tsv: 1.000" in out
    assert "mean 1.0000 over 3 files; 1.0000 over the 2 shipped files" in out
    assert not target.exists()


def test_the_contrast_reading_reads_again_from_the_last_but():
    # Written for this test. The clause after the last contrast word, not one at the start.
    assert sentiment.after_contrast("Bello il locale, ma il servizio è lento.") == "il servizio è lento."
    assert sentiment.after_contrast("Caro, però ne vale la pena, ma davvero tanto") == "davvero tanto"
    assert sentiment.after_contrast("Slow delivery. However, the bike is great.") == "the bike is great."
    assert sentiment.after_contrast("Ma che bello!") is None  # at the start: nothing before it
    assert sentiment.after_contrast("Small room but ok") is None  # fewer than 8 characters after
    assert sentiment.after_contrast("Mamma mia, buonissimo; amazing, butterfly") is None  # words, not "ma"/"but"
    # A classifier over the stand-in encoder: "good" positive, "bad" negative.
    classifier = sentiment.fit(words(["good", "bad", "x"]), ["positive", "negative", "neutral"], l2=1e-4)
    texts = [
        "The room was bad, but the food was good",
        "A good room",
        "The room was bad, noisy all night long. " * 5 + "The food was good.",
    ]
    calls: list[list[str]] = []

    def encode(parts: list[str]) -> np.ndarray:
        calls.append(list(parts))
        return words(parts)

    whole = sentiment.probabilities(classifier, texts, encode=encode, reading="whole")
    assert calls == [texts]
    calls.clear()
    contrast = sentiment.probabilities(classifier, texts, encode=encode, reading="contrast")
    # Read whole, then only "the food was good" again: the two readings averaged.
    assert calls == [texts, ["the food was good"]]
    assert contrast[0, 0] > whole[0, 0] and np.allclose(contrast[1:], whole[1:])
    calls.clear()
    sentiment.probabilities(classifier, texts, encode=encode, reading="sentences")
    assert len(calls) == 2 and calls[1] == sentiment.sentences(sentiment.normalise(texts[2]))


def test_a_candidate_trained_on_more_files_is_written_elsewhere(tmp_path, monkeypatch, capsys, settings):
    settings.VAR_DIR = str(tmp_path / "var")
    a = write(tmp_path / "sentiment_a.tsv", [("pos", "good room"), ("neg", "bad room"), ("neu", "a room")])
    extra = write(tmp_path / "extra.tsv", [("pos", "good bed"), ("neg", "bad bed")])
    monkeypatch.setattr("adesso.insights.sentiment.shipped_files", lambda: [a])
    monkeypatch.setattr(sentiment, "embed", lambda texts, advance=None: words(texts))
    monkeypatch.setattr(
        "adesso.insights.management.commands.trainsentiment.embed", lambda texts, advance=None: words(texts)
    )
    shipped = tmp_path / "sentiment.npz"
    monkeypatch.setattr("adesso.insights.management.commands.trainsentiment.SHIPPED", shipped)
    candidate = tmp_path / "candidate.npz"
    call_command("trainsentiment", also=[extra], out=candidate)
    assert "Trained on 5 examples; written to" in capsys.readouterr().out
    assert candidate.exists() and not shipped.exists()
    p = sentiment.Classifier.from_bytes(candidate.read_bytes()).probabilities(words(["good", "bad"]))
    assert p[0, 0] > p[0, 1] and p[1, 1] > p[1, 0]
