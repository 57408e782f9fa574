"""`adesso trainsentiment`: rebuild the shipped sentiment classifier from the examples
written for Adesso (adesso/insights/training/), or, with `--organization CODE` and
`--surveys` (its survey answers with a reason: the score is the label) and/or
`--examples FILE`, train an organisation's own on its labelled texts and use it only
when it beats the classifier in use on a held-out part (else the one in use stays).
`--cross-validate [--also FILE...] [--l2 X] [--reading R]` writes nothing: it measures
each training file by a classifier trained on the others, how examples, the penalty and
the reading are chosen without looking at any evaluation set. `--also FILE... --out
FILE` (without --cross-validate) writes a candidate trained on more files elsewhere."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from adesso.insights.sentiment import (
    L2,
    LABELS,
    READING,
    READINGS,
    SHIPPED,
    embed,
    examples_in,
    fit,
    leave_one_file_out,
    shipped_classifier,
    shipped_example_vectors,
    shipped_examples,
    shipped_files,
)
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


def survey_label(kind: str, score: int) -> str:
    """A survey score as a label: CSAT 1-2 / NPS 0-6 / CES 5-7 negative, CSAT 3 /
    NPS 7-8 / CES 4 neutral, the rest positive."""
    from adesso.surveys.models import Kind, is_bad

    if is_bad(kind, score):
        return "negative"
    middles: dict[str, tuple[int, ...]] = {Kind.CSAT: (3,), Kind.NPS: (7, 8), Kind.CES: (4,)}
    middle = middles.get(kind, ())
    return "neutral" if score in middle else "positive"


def survey_examples(organization: Any) -> list[tuple[str, str]]:
    """The organisation's survey answers that came with a reason, oldest first."""
    from adesso.surveys.models import Survey

    rows = (
        Survey.objects.filter(organization=organization, score__isnull=False)
        .exclude(reason="")
        .order_by("answered_at", "pk")
        .values_list("reason", "kind", "score")
    )
    return [
        (reason.strip(), survey_label(kind, score))
        for reason, kind, score in rows
        if reason.strip() and score is not None
    ]


def accuracy(predicted: np.ndarray, labels: list[str]) -> float:
    return float(np.mean([LABELS[int(i)] == label for i, label in zip(predicted, labels, strict=True)]))


class Command(BaseCommand):
    help = "Train the sentiment classifier (the shipped one, or an organisation's own)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organization", help="train this organisation's own classifier (its code)")
        parser.add_argument("--examples", type=Path, help="CSV of text,label for --organization")
        parser.add_argument(
            "--surveys", action="store_true", help="with --organization: its survey answers with a reason"
        )
        parser.add_argument(
            "--cross-validate",
            action="store_true",
            help="measure, do not write: each training file's accuracy by a classifier trained on the others",
        )
        parser.add_argument(
            "--also", type=Path, nargs="*", default=[], help="with --cross-validate: more example files to add"
        )
        parser.add_argument(
            "--measure", type=Path, nargs="*", default=[], help="with --cross-validate: files only measured"
        )
        parser.add_argument("--l2", type=float, default=L2, help=f"with --cross-validate: the penalty ({L2})")
        parser.add_argument(
            "--reading", choices=READINGS, default=READING, help=f"with --cross-validate: the reading ({READING})"
        )
        parser.add_argument(
            "--out", type=Path, help="write the classifier here instead of the shipped file (with --also: a candidate)"
        )

    def handle(
        self,
        *args: Any,
        organization: str | None,
        examples: Path | None,
        surveys: bool = False,
        cross_validate: bool = False,
        also: list[Path] | None = None,
        measure: list[Path] | None = None,
        l2: float = L2,
        reading: str = READING,
        out: Path | None = None,
        **options: Any,
    ) -> None:
        if cross_validate:
            self._cross_validate(shipped_files() + list(also or []), list(measure or []), l2, reading)
            return
        if organization:
            self._train_own(organization, examples, surveys)
            return
        if examples or surveys:
            raise CommandError("--examples and --surveys train an organisation's own: add --organization CODE")
        more = [example for path in also or [] for example in examples_in(path)]
        with progress_bar("Embedding the examples", len(shipped_examples()) + len(more)) as advance:
            data, vectors = shipped_example_vectors(advance)
            if more:
                vectors = np.concatenate([vectors, embed([t for t, _ in more], advance)])
        classifier = fit(vectors, [label for _, label in data + more], l2=l2)
        target = out or SHIPPED
        target.write_bytes(classifier.to_bytes())
        self.stdout.write(f"Trained on {len(data) + len(more)} examples; written to {target}")

    def _cross_validate(self, files: list[Path], measured: list[Path], l2: float, reading: str) -> None:
        """Leave-one-file-out accuracy (positive vs negative) of the example files, and the means."""
        if missing := [str(path) for path in files + measured if not path.is_file()]:
            raise CommandError(f"Not found: {', '.join(missing)}")
        self.stdout.write(
            f"Leave-one-file-out: {len(files)} files trained on, {len(measured)} only measured, l2 {l2:g}, "
            f"reading {reading} (one fit per file: minutes)"
        )
        found = leave_one_file_out(files, l2=l2, measured=measured, reading=reading)
        for name, accuracy_of_file in found.items():
            self.stdout.write(f"  {name}: {accuracy_of_file:.3f}")
        shipped = [found[path.name] for path in shipped_files()]
        self.stdout.write(
            f"mean {np.nanmean(list(found.values())):.4f} over {len(found)} files; "
            f"{np.nanmean(shipped):.4f} over the {len(shipped)} shipped files"
        )

    def _train_own(self, code: str, path: Path | None, surveys: bool) -> None:
        from adesso.accounts.models import Organization
        from adesso.insights.models import SentimentModel
        from adesso.insights.sentiment import classifier_for

        org = Organization.objects.filter(code=code).first()
        if org is None:
            raise CommandError(f"No organisation {code!r}")
        if path is None and not surveys:
            raise CommandError("--surveys or --examples FILE is needed (CSV with columns text,label)")
        data = read_examples(path) if path is not None else []
        if surveys:
            answers = survey_examples(org)
            self.stdout.write(f"{len(answers)} survey answers with a reason")
            data += answers
        if len(data) < 50:
            raise CommandError(f"{len(data)} examples: at least 50 are needed to train and check")
        random.Random(0).shuffle(data)
        cut = int(len(data) * HELD_OUT)
        held, train = data[:cut], data[cut:]
        # The organisation's examples on top of the shipped ones: a small set refines,
        # it does not replace what the shipped examples teach.
        with progress_bar("Embedding the examples", len(data) + len(shipped_examples())) as advance:
            train_vectors = embed([t for t, _ in train], advance)
            held_vectors = embed([t for t, _ in held], advance)
            base, base_vectors = shipped_example_vectors(advance)
        own = fit(np.concatenate([base_vectors, train_vectors]), [lb for _, lb in base] + [lb for _, lb in train])
        held_labels = [label for _, label in held]
        own_acc = accuracy(own.probabilities(held_vectors).argmax(axis=1), held_labels)
        shipped_acc = accuracy(shipped_classifier().probabilities(held_vectors).argmax(axis=1), held_labels)
        # Measured against the classifier in use now: the organisation's earlier one, if
        # it had a better one, else the shipped one.
        current = SentimentModel.objects.filter(organization=org, in_use=True).first()
        current_acc = (
            accuracy(classifier_for(org).probabilities(held_vectors).argmax(axis=1), held_labels)
            if current is not None
            else shipped_acc
        )
        better = own_acc > current_acc
        if not better and current is not None:
            self.stdout.write(
                f"Held-out accuracy on {len(held)} examples: new {own_acc:.3f}, the one in use (trained "
                f"{current.trained_at:%Y-%m-%d}) {current_acc:.3f}, shipped {shipped_acc:.3f}: not better, "
                "the one in use is kept"
            )
            return
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
        verdict = "the new one is in use" if better else "not better: the shipped one stays in use"
        self.stdout.write(
            f"Held-out accuracy on {len(held)} examples: new {own_acc:.3f}, shipped {shipped_acc:.3f}: {verdict}"
        )
