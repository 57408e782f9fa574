"""An organisation's own learned layer: its examples (findings its agents dismissed as
not applicable, sentences its supervisors marked as examples of a rule) on top of the
sentences Adesso ships, used only when it scores at least as well as the shipped layer
on a held-out part of those examples (`adesso traincoach --organisation CODE`)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils import timezone

from adesso.coach import learned
from adesso.coach.rules import BUILTIN_IDS

MIN_EXAMPLES = 20
HELD_OUT = 0.25
OWN_WEIGHT = 3.0  # an organisation's example counts as three of the shipped sentences


@dataclass(frozen=True)
class TrainResult:
    examples: int
    held_out: int
    score: float
    shipped_score: float
    in_use: bool


def _decided_right(classifier: learned.Classifier, vectors: np.ndarray, examples: list[Any]) -> float:
    """The share of held-out examples the layer decides as labelled (flags a positive,
    leaves a dismissed sentence alone) for the example's rule."""
    if not examples:
        return 0.0
    flags = classifier.flags(vectors)
    right = [bool(flags[i, classifier.labels.index(e.pattern)]) == e.positive for i, e in enumerate(examples)]
    return float(np.mean(right))


def train_organisation(code: str, encode: Callable[[list[str], str], Any]) -> TrainResult:
    from adesso.accounts.models import Organization
    from adesso.coach.models import CoachExample, CoachLearnedModel

    organization = Organization.objects.filter(code=code).first()
    if organization is None:
        raise ValueError(f"No organisation {code!r}")
    latest: dict[tuple[str, str], Any] = {}
    for example in CoachExample.objects.filter(organization=organization, pattern__in=BUILTIN_IDS).order_by(
        "created_at", "id"
    ):
        latest[(learned.normalise(example.text), example.pattern)] = example  # the latest word on a sentence
    examples = list(latest.values())
    if len(examples) < MIN_EXAMPLES:
        raise ValueError(f"{len(examples)} examples: at least {MIN_EXAMPLES} are needed to train and check")
    random.Random(0).shuffle(examples)
    cut = max(5, int(len(examples) * HELD_OUT))
    held, own = examples[:cut], examples[cut:]
    shipped = learned.training_examples()
    # one label set per sentence: the shipped labels, then the organisation's word on each rule
    labels: dict[str, set[str]] = {}
    weight: dict[str, float] = {}
    for text, _language, ids in shipped:
        labels.setdefault(learned.normalise(text), set()).update(ids)
        weight.setdefault(learned.normalise(text), 1.0)
    for e in own:
        key = learned.normalise(e.text)
        said = labels.setdefault(key, set())
        if e.positive:
            said.add(e.pattern)
        else:
            said.discard(e.pattern)
        weight[key] = OWN_WEIGHT
    texts = list(labels)
    vectors = encode(texts + [e.text for e in held], "Embedding the sentences")
    train_vectors, held_vectors = vectors[: len(texts)], vectors[len(texts) :]
    classifier, _report = learned.train(
        train_vectors, [frozenset(labels[t]) for t in texts], sample_weight=np.array([weight[t] for t in texts]), k=3
    )
    base = learned.shipped_classifier()
    score = _decided_right(classifier, held_vectors, held)
    shipped_score = _decided_right(base, held_vectors, held) if base is not None else 0.0
    in_use = score >= shipped_score
    CoachLearnedModel.objects.update_or_create(
        organization=organization,
        defaults={
            "weights": classifier.to_bytes(),
            "examples": len(examples),
            "score": score,
            "shipped_score": shipped_score,
            "in_use": in_use,
            "trained_at": timezone.now(),
        },
    )
    return TrainResult(
        examples=len(examples), held_out=len(held), score=score, shipped_score=shipped_score, in_use=in_use
    )


def classifier_for(organization_id: int | None) -> learned.Classifier | None:
    """The organisation's own layer when it trained one at least as good, else the shipped one."""
    if organization_id is not None:
        from adesso.coach.models import CoachLearnedModel

        own = (
            CoachLearnedModel.objects.filter(organization_id=organization_id, in_use=True)
            .values_list("trained_at", flat=True)
            .first()
        )
        if own is not None:

            def load() -> bytes:
                weights = (
                    CoachLearnedModel.objects.filter(organization_id=organization_id)
                    .values_list("weights", flat=True)
                    .first()
                )
                return bytes(weights or b"")

            return learned.cached(f"{organization_id}:{own.isoformat()}", load)
    return learned.shipped_classifier()
