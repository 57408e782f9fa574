"""`adesso evalsentiment`: the shipped classifier's accuracy on held-out sets, never
trained on: the public Italian ABSITA 2018 hotel reviews and English US-airline tweets
(evaluation only), and customer reviews of other trades written by hand and frozen
before measuring (tests/fixtures/sentiment_reviews/, and session 7's tests/fixtures/sentiment_session7/),
and real reviews of other sources (tests/fixtures/sentiment_external/). Positive vs
negative accuracy, and on every set the three-class macro-F1 (the mean F1 of the
classes the set has, the likeliest of the three classes predicted: a neutral answer to
a positive review is an error). `--cache DIR` keeps the vectors between runs (the
encoder is the slow part); `--model FILE` measures another classifier file (an earlier
`sentiment.npz`); `--reading` how texts are read (`sentiment.probabilities`). Figures in docs/insights.md."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from adesso.insights.sentiment import (
    LABELS,
    READING,
    READINGS,
    Classifier,
    embed,
    normalise,
    probabilities,
    shipped_classifier,
)
from adesso.lib.progress import progress_bar

DATA = Path(__file__).resolve().parents[5] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parents[4] / "tests" / "fixtures"
REVIEWS = FIXTURES / "sentiment_reviews"
SESSION7 = FIXTURES / "sentiment_session7"
EXTERNAL = FIXTURES / "sentiment_external"
SETS = ("absita2018_it", "airline_sentiment_en", "reviews_it", "reviews_en", "reviews7_it", "reviews7_en")
# Real customer reviews of other sources (tests/fixtures/sentiment_external/README.md):
# name -> (file, how its first column labels: stars 1-5 or 0/1).
EXTERNAL_SETS = {
    "amazon_it": ("amazon_it.tsv", "stars"),
    "yelp_en": ("yelp_en.tsv", "binary"),
    "amazon_en": ("amazon_en.tsv", "binary"),
    "amazon_uk_en": ("amazon_uk_en.tsv", "stars"),
}
ALL_SETS = SETS + tuple(EXTERNAL_SETS)


def absita(path: Path) -> list[tuple[str, str]]:
    """Sentences with only positive or only negative aspects (mixed ones left out)."""
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            pos = any(row[k] == "1" for k in row if k.endswith("_positive"))
            neg = any(row[k] == "1" for k in row if k.endswith("_negative"))
            if pos != neg:
                out.append((row["sentence"], "positive" if pos else "negative"))
    return out


def airline(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(row["text"], row["airline_sentiment"]) for row in csv.DictReader(f)]


def read_reviews(path: Path) -> list[tuple[str, str]]:
    """label<TAB>trade<TAB>text, label pos/neg/neu; # comments."""
    short = {"pos": "positive", "neg": "negative", "neu": "neutral"}
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, _trade, text = line.split("\t", 2)
            out.append((text.strip(), short[label]))
    return out


def read_external(path: Path, scale: str) -> list[tuple[str, str]]:
    """`label<TAB>[what<TAB>]text`; the label is 0/1 or stars (1-2 negative, 4-5
    positive; 3 left out)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        mark, text = fields[0].strip(), fields[-1].strip()
        if scale == "binary":
            out.append((text, "positive" if mark == "1" else "negative"))
        elif mark in ("1", "2", "4", "5"):
            out.append((text, "positive" if mark in ("4", "5") else "negative"))
    return out


def vectors(texts: list[str], cache: Path | None, advance: Any) -> np.ndarray:
    """The texts' vectors, read from `cache` when this very list (as the encoder sees
    it) was encoded before."""
    if cache is None:
        return embed(texts, advance)
    key = hashlib.sha256("\x00".join(normalise(t) for t in texts).encode()).hexdigest()[:24]
    path = cache / f"vectors-{key}.npy"
    if path.exists():
        advance(len(texts))
        return np.load(path)  # type: ignore[no-any-return]
    found = embed(texts, advance)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, found)
    return found


def macro_f1(predicted: list[str], truth: list[str]) -> float:
    """The mean F1 of the classes that occur in `truth` (predictions in all three)."""
    scores = []
    for label in [label for label in LABELS if label in truth]:
        tp = sum(p == t == label for p, t in zip(predicted, truth, strict=True))
        fp = sum(p == label != t for p, t in zip(predicted, truth, strict=True))
        fn = sum(t == label != p for p, t in zip(predicted, truth, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


class Command(BaseCommand):
    help = "Measure the sentiment classifier on the held-out Italian and English sets."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--data", type=Path, default=DATA, help="the folder of ../shared/data")
        parser.add_argument("--reviews", type=Path, default=REVIEWS, help="the folder of the hand-written reviews")
        parser.add_argument("--limit", type=int, default=0, help="at most this many texts per set (0: all)")
        parser.add_argument(
            "--sets",
            default=",".join(ALL_SETS),
            help=f"which sets, comma-separated ({', '.join(ALL_SETS)}; 'external' for the last {len(EXTERNAL_SETS)})",
        )
        parser.add_argument("--cache", type=Path, help="keep the vectors in this folder between runs")
        parser.add_argument("--model", type=Path, help="measure this classifier file instead of the shipped one")
        parser.add_argument(
            "--reading", choices=READINGS, default=READING, help=f"how texts are read ({READING}; Session 9)"
        )
        parser.add_argument("--topics", action="store_true", help="also: topics of the airline complaints, purity")

    def handle(
        self,
        *args: Any,
        data: Path,
        reviews: Path,
        limit: int,
        sets: str,
        cache: Path | None,
        topics: bool,
        model: Path | None = None,
        reading: str = READING,
        **options: Any,
    ) -> None:
        known = {
            "absita2018_it": (data / "absita2018_it" / "absita_2018_training.csv", absita),
            "airline_sentiment_en": (data / "airline_sentiment_en" / "Tweets.csv", airline),
            "reviews_it": (reviews / "reviews_it.tsv", read_reviews),
            "reviews_en": (reviews / "reviews_en.tsv", read_reviews),
            "reviews7_it": (SESSION7 / "reviews7_it.tsv", read_reviews),
            "reviews7_en": (SESSION7 / "reviews7_en.tsv", read_reviews),
        }
        for name, (file, scale) in EXTERNAL_SETS.items():
            known[name] = (EXTERNAL / file, partial(read_external, scale=scale))
        chosen = [name.strip() for name in sets.split(",") if name.strip()]
        if "external" in chosen:
            at = chosen.index("external")
            chosen[at : at + 1] = list(EXTERNAL_SETS)
        if unknown := [name for name in chosen if name not in known]:
            raise CommandError(f"Unknown sets {unknown}: choose among {', '.join(ALL_SETS)}, external")
        classifier = Classifier.from_bytes(model.read_bytes()) if model else shipped_classifier()
        for name in chosen:
            path, reader = known[name]
            if not path.exists():
                raise CommandError(f"{path} not found (--data points at the data folder)")
            rows = reader(path)
            if limit:
                rows = rows[:: max(1, len(rows) // limit)][:limit]
            with progress_bar(f"{name}", len(rows)) as advance:
                texts = [t for t, _ in rows]
                p = probabilities(
                    classifier,
                    texts,
                    vectors(texts, cache, advance),
                    encode=lambda parts: vectors(parts, cache, lambda n: None),
                    reading=reading,
                )
            truth = [label for _, label in rows]
            polar = [i for i, t in enumerate(truth) if t != "neutral"]
            binary = ["positive" if p[i, 0] >= p[i, 1] else "negative" for i in polar]
            acc = float(np.mean([b == truth[i] for b, i in zip(binary, polar, strict=True)]))
            recall = {
                label: np.mean([b == label for b, i in zip(binary, polar, strict=True) if truth[i] == label])
                for label in ("positive", "negative")
            }
            line = (
                f"{name}: positive vs negative accuracy {acc:.3f} on {len(polar)} texts (recall: positive "
                f"{recall['positive']:.3f}, negative {recall['negative']:.3f} on "
                f"{sum(truth[i] == 'negative' for i in polar)})"
            )
            three = [LABELS[int(i)] for i in p.argmax(axis=1)]
            with_neutral = " with neutral" if len(polar) < len(truth) else ""
            line += f"; three-class macro-F1 {macro_f1(three, truth):.3f} on {len(truth)} texts{with_neutral}"
            self.stdout.write(line)
        if topics:
            self._topics(data / "airline_sentiment_en" / "Tweets.csv", limit)

    def _topics(self, path: Path, limit: int) -> None:
        """Cluster the complaints as the topics report does; compare with their reasons."""
        from adesso.insights.topics import cluster, purity

        with path.open(encoding="utf-8", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["airline_sentiment"] == "negative" and r["negativereason"]]
        if limit:
            rows = rows[:: max(1, len(rows) // limit)][:limit]
        texts = [r["text"] for r in rows]
        with progress_bar("airline complaints' topics", len(texts)) as advance:
            vectors = embed(texts, advance)
        found = cluster(texts, vectors)
        assigned: list[int | None] = [None] * len(texts)
        for number, topic in enumerate(found):
            for i in topic.members:
                assigned[i] = number
        truth = [r["negativereason"] for r in rows]
        covered = sum(a is not None for a in assigned)
        self.stdout.write(
            f"airline complaints: {len(found)} topics, purity {purity(assigned, truth):.3f} against the labelled "
            f"reasons ({covered} of {len(texts)} complaints in a topic)"
        )
        for topic in found:
            reasons = Counter(truth[i] for i in topic.members).most_common(2)
            self.stdout.write(
                f"  {', '.join(topic.keywords[:4])}: {len(topic.members)}; " + "; ".join(f"{r} {n}" for r, n in reasons)
            )
