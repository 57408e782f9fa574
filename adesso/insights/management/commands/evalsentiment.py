"""`adesso evalsentiment`: the shipped classifier's accuracy on held-out public sets
(Italian ABSITA 2018 hotel reviews, English US-airline tweets: evaluation only, never
trained on). Positive vs negative accuracy, and on the airline tweets (which have a
neutral class) the three-class macro-F1. Figures in docs/insights.md."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from adesso.insights.sentiment import LABELS, embed, shipped_classifier
from adesso.lib.progress import progress_bar

DATA = Path(__file__).resolve().parents[5] / "shared" / "data"


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


def macro_f1(predicted: list[str], truth: list[str]) -> float:
    scores = []
    for label in LABELS:
        tp = sum(p == t == label for p, t in zip(predicted, truth, strict=True))
        fp = sum(p == label != t for p, t in zip(predicted, truth, strict=True))
        fn = sum(t == label != p for p, t in zip(predicted, truth, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


class Command(BaseCommand):
    help = "Measure the sentiment classifier on the held-out Italian and English sets."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--data", type=Path, default=DATA, help="the folder of ../shared/data")
        parser.add_argument("--limit", type=int, default=0, help="at most this many texts per set (0: all)")
        parser.add_argument("--topics", action="store_true", help="also: topics of the airline complaints, purity")

    def handle(self, *args: Any, data: Path, limit: int, topics: bool, **options: Any) -> None:
        sets = {
            "absita2018_it": (data / "absita2018_it" / "absita_2018_training.csv", absita),
            "airline_sentiment_en": (data / "airline_sentiment_en" / "Tweets.csv", airline),
        }
        classifier = shipped_classifier()
        for name, (path, reader) in sets.items():
            if not path.exists():
                raise CommandError(f"{path} not found (--data points at the data folder)")
            rows = reader(path)
            if limit:
                rows = rows[:: max(1, len(rows) // limit)][:limit]
            with progress_bar(f"{name}", len(rows)) as advance:
                p = classifier.probabilities(embed([t for t, _ in rows], advance))
            truth = [label for _, label in rows]
            polar = [i for i, t in enumerate(truth) if t != "neutral"]
            binary = ["positive" if p[i, 0] >= p[i, 1] else "negative" for i in polar]
            acc = float(np.mean([b == truth[i] for b, i in zip(binary, polar, strict=True)]))
            line = f"{name}: positive vs negative accuracy {acc:.3f} on {len(polar)} texts"
            if len(polar) < len(truth):
                three = [LABELS[int(i)] for i in p.argmax(axis=1)]
                line += f"; three-class macro-F1 {macro_f1(three, truth):.3f} on {len(truth)} texts"
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
