"""`adesso trainsentiment`: rebuild the shipped sentiment classifier from the examples
written for Adesso (adesso/insights/training/), or, with `--organization CODE --examples
FILE`, train an organisation's own on its labelled texts and use it only when it beats
the shipped one on a held-out part."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from adesso.insights.sentiment import LABELS, SHIPPED, embed, fit, shipped_classifier, shipped_examples
from adesso.lib.progress import progress_bar

HELD_OUT = 0.2


def read_examples(path: Path) -> list[tuple[str, str]]:
    """A CSV with columns `text` and `label` (positive/negative/neutral, or a score 1-5:
    1-2 negative, 3 neutral, 4-5 positive, as a CSAT answer gives)."""
    try:
        rows = list(csv.DictReader(path.open(encoding="utf-8-sig", newline="")))
    except (OSError, UnicodeDecodeError) as e:
        raise CommandError(f"Cannot read {path}: {e}") from e
    examples = []
    for number, row in enumerate(rows, start=2):
        text, label = (row.get("text") or "").strip(), (row.get("label") or "").strip().lower()
        if label.isdigit() and 1 <= int(label) <= 5:
            label = ("negative", "negative", "neutral", "positive", "positive")[int(label) - 1]
        if not text or label not in LABELS:
            raise CommandError(f"{path}, line {number}: needs a text and a label in {LABELS} or 1-5")
        examples.append((text, label))
    return examples


def accuracy(predicted: np.ndarray, labels: list[str]) -> float:
    return float(np.mean([LABELS[int(i)] == label for i, label in zip(predicted, labels, strict=True)]))


class Command(BaseCommand):
    help = "Train the sentiment classifier (the shipped one, or an organisation's own)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organization", help="train this organisation's own classifier (its code)")
        parser.add_argument("--examples", type=Path, help="CSV of text,label for --organization")

    def handle(self, *args: Any, organization: str | None, examples: Path | None, **options: Any) -> None:
        if organization:
            self._train_own(organization, examples)
            return
        data = shipped_examples()
        with progress_bar("Embedding the examples", len(data)) as advance:
            vectors = embed([t for t, _ in data], advance)
        classifier = fit(vectors, [label for _, label in data])
        SHIPPED.write_bytes(classifier.to_bytes())
        self.stdout.write(f"Trained on {len(data)} examples; written to {SHIPPED}")

    def _train_own(self, code: str, path: Path | None) -> None:
        from adesso.accounts.models import Organization
        from adesso.insights.models import SentimentModel

        org = Organization.objects.filter(code=code).first()
        if org is None:
            raise CommandError(f"No organisation {code!r}")
        if path is None:
            raise CommandError("--examples FILE is needed (CSV with columns text,label)")
        data = read_examples(path)
        if len(data) < 50:
            raise CommandError(f"{len(data)} examples: at least 50 are needed to train and check")
        random.Random(0).shuffle(data)
        cut = int(len(data) * HELD_OUT)
        held, train = data[:cut], data[cut:]
        with progress_bar("Embedding the organisation's examples", len(data)) as advance:
            train_vectors = embed([t for t, _ in train], advance)
            held_vectors = embed([t for t, _ in held], advance)
        # The organisation's examples on top of the shipped ones: a small set refines,
        # it does not replace what the shipped examples teach.
        base = shipped_examples()
        base_vectors = embed([t for t, _ in base])
        own = fit(np.concatenate([base_vectors, train_vectors]), [lb for _, lb in base] + [lb for _, lb in train])
        held_labels = [label for _, label in held]
        own_acc = accuracy(own.probabilities(held_vectors).argmax(axis=1), held_labels)
        shipped_acc = accuracy(shipped_classifier().probabilities(held_vectors).argmax(axis=1), held_labels)
        better = own_acc > shipped_acc
        SentimentModel.objects.update_or_create(
            organization=org,
            defaults={
                "weights": own.to_bytes(),
                "examples": len(data),
                "accuracy": own_acc,
                "shipped_accuracy": shipped_acc,
                "in_use": better,
                "trained_at": timezone.now(),
            },
        )
        verdict = "in use" if better else "not used (not better than the shipped one)"
        self.stdout.write(
            f"Held-out accuracy on {len(held)} examples: own {own_acc:.3f}, shipped {shipped_acc:.3f}: {verdict}"
        )
