"""Recurring topics of customers' criticism and praise.

The first customer message of each conversation, and each survey's reason (where
praise mostly comes), once its sentiment is known, keeps its vector
(adesso/insights/analyse.py). `do_find_topics` clusters an organisation's negative and
positive ones of a period apart: k-means (seeded k-means++,
so the same messages give the same topics) on each message's words (lemmas, TF-IDF)
beside its sentence vector; each cluster is named by its most distinctive words and
shown with the messages nearest its centre. A run matches what it finds to the
topics it found before by their centres, so names a supervisor gave and merges they
made stay; new messages join the nearest topic as they are analysed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import simplemma
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.insights.sentiment import normalise

T = TypeVar("T")

if TYPE_CHECKING:
    from adesso.accounts.models import Organization, User
    from adesso.insights.models import Topic

DIMENSIONS = 384
MATCH = 0.9  # cosine between a found cluster's centre and a known topic's: the same topic
ASSIGN_MIN = 0.8  # a new message joins its nearest topic only when at least this close
MAX_K = 12
SEED = 0
WORDS_WEIGHT = 0.5  # words : meaning (the centred sentence vector), both unit-length

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
STOPWORDS = frozenset(
    """
    the and for you your are was were with that this have has had not but from they their our can get got what
    when will would been all just any out now one two too very much more some there here about into than then them
    his her him she who how why also only over again still even because could should did does doing being its
    it's i'm don't can't won't didn't isn't please thanks thank hello dear regards today yesterday tomorrow
    ieri oggi domani che con per una uno del della delle dei degli dal dalla alla alle allo agli nel nella nei
    sono sei siamo siete era erano stato stata essere avere ho hai abbiamo avete hanno non più anche come dove
    quando perché quindi però poi già ancora molto tutto tutti tutte questo questa questi queste quello quella
    mio mia miei mie suo sua vostro vostra nostro nostra grazie buongiorno buonasera salve cordiali saluti
    ciao gentile gentili vorrei volevo potete potreste fare fatto essere sempre solo ogni qualche altro altra
    """.split()
)


def pack(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


def unpack(data: bytes | memoryview | None) -> np.ndarray:
    if data is None:
        return np.zeros(DIMENSIONS, dtype=np.float32)
    return np.frombuffer(bytes(data), dtype=np.float16).astype(np.float32)


def _unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-9)  # type: ignore[no-any-return]


def tokens(text: str) -> list[str]:
    """The words that can name a topic: lemmas, stopwords and short words out."""
    out = []
    for word in _WORD.findall(normalise(text).lower()):
        if word in STOPWORDS:
            continue
        lemma = simplemma.lemmatize(word, lang=("it", "en"))
        if lemma not in STOPWORDS and len(lemma) >= 3:
            out.append(lemma)
    return out


def _tfidf(documents: list[list[str]]) -> tuple[np.ndarray, list[str], np.ndarray]:
    df = Counter(word for doc in documents for word in set(doc))
    floor = 2 if len(documents) >= 20 else 1
    vocabulary = sorted(w for w, c in df.items() if c >= floor)
    index = {w: i for i, w in enumerate(vocabulary)}
    matrix = np.zeros((len(documents), len(vocabulary)), dtype=np.float32)
    for row, doc in enumerate(documents):
        for word in doc:
            if word in index:
                matrix[row, index[word]] += 1
    idf = np.array([math.log(len(documents) / df[w]) for w in vocabulary], dtype=np.float32)
    return matrix * idf, vocabulary, idf


def kmeans(points: np.ndarray, k: int, seed: int = SEED, tries: int = 8) -> np.ndarray:
    """Spherical k-means, the best of `tries` k-means++ starts from fixed seeds (the
    tightest clusters): the same points give the same clusters. Each point's cluster."""
    best, best_fit = np.zeros(len(points), dtype=int), -np.inf
    for attempt in range(tries):
        assigned, fit = _kmeans_once(points, k, seed + attempt)
        if fit > best_fit + 1e-9:
            best, best_fit = assigned, fit
    return best


def _kmeans_once(points: np.ndarray, k: int, seed: int, rounds: int = 40) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(seed)
    centres = [points[int(rng.integers(len(points)))]]
    for _more in range(k - 1):
        distance = np.clip(1 - np.max(points @ np.array(centres).T, axis=1), 0, None) ** 2
        total = float(distance.sum())
        if total <= 0:
            break
        centres.append(points[int(rng.choice(len(points), p=distance / total))])
    c = np.array(centres)
    assigned = np.zeros(len(points), dtype=int)
    for round_ in range(rounds):
        new = (points @ c.T).argmax(axis=1)
        if round_ and np.array_equal(new, assigned):
            break
        assigned = new
        c = _unit(
            np.array([points[assigned == j].mean(axis=0) if (assigned == j).any() else c[j] for j in range(len(c))])
        )
    fit = float((points * c[assigned]).sum())
    return assigned, fit


@dataclass
class Found:
    keywords: list[str]
    centroid: np.ndarray
    members: list[int]
    quotes: list[int] = field(default_factory=list)


def default_k(n: int) -> int:
    return max(2, min(MAX_K, round(math.sqrt(n / 3))))


def cluster(texts: Sequence[str], vectors: np.ndarray, k: int | None = None) -> list[Found]:
    """Topics among `texts` (whose sentence vectors are `vectors`), largest first."""
    n = len(texts)
    if n < 6:
        return []
    documents = [tokens(t) for t in texts]
    words, vocabulary, _ = _tfidf(documents)
    vectors = _unit(vectors.astype(np.float32))
    # The encoder's vectors of one trade's messages all lie close together: centred, what
    # tells them apart is left. Words and meaning then weigh WORDS_WEIGHT : 1 - WORDS_WEIGHT.
    meaning = _unit(vectors - vectors.mean(axis=0))
    features = _unit(np.hstack([_unit(words) * WORDS_WEIGHT, meaning * (1 - WORDS_WEIGHT)])) if vocabulary else meaning
    assigned = kmeans(features, k or default_k(n))
    smallest = max(3, int(n * 0.01))
    found = []
    share = (words > 0).mean(axis=0) if vocabulary else np.zeros(0)
    for j in sorted(set(assigned.tolist()), key=lambda j: -(assigned == j).sum()):
        members = [int(i) for i in np.flatnonzero(assigned == j)]
        if len(members) < smallest:
            continue
        centroid = _unit(vectors[members].mean(axis=0))
        keywords: list[str] = []
        if vocabulary:
            # Distinctive: frequent in the cluster, not everywhere (c-TF-IDF).
            weight = words[members].sum(axis=0) * (share < 0.5)
            keywords = [vocabulary[i] for i in np.argsort(-weight)[:5] if weight[i] > 0]
        nearest = sorted(members, key=lambda i: -float(vectors[i] @ centroid))
        quotes = distinct(nearest, lambda i: texts[i])[:3]
        found.append(Found(keywords=keywords, centroid=centroid, members=members, quotes=quotes))
    return found


def distinct(items: Sequence[T], text: Callable[[T], str]) -> list[T]:
    """`items` without those whose text repeats an earlier one's (case and spacing aside):
    a topic's quotes are three voices, not one message sent three times."""
    seen: set[str] = set()
    out = []
    for item in items:
        key = " ".join(text(item).lower().split())
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def purity(assigned: Sequence[int | None], truth: Sequence[str]) -> float:
    """Share of texts whose cluster's most common true label is their own."""
    groups: dict[int, Counter[str]] = {}
    for a, t in zip(assigned, truth, strict=True):
        if a is not None:
            groups.setdefault(a, Counter())[t] += 1
    covered = sum(sum(c.values()) for c in groups.values())
    return sum(c.most_common(1)[0][1] for c in groups.values()) / covered if covered else 0.0


def reason_codes(conversation_ids: Collection[int]) -> set[str]:
    """The codes of the messages that gave a survey its reason in these conversations."""
    from adesso.conversations.models import ConversationEvent, EventKind

    found = ConversationEvent.objects.filter(
        conversation_id__in=conversation_ids, kind=EventKind.SURVEY_REASON
    ).values_list("data", flat=True)
    return {str(data["message"]) for data in found if isinstance(data, dict) and data.get("message")}


def quote_text(text: str, reason: bool) -> str:
    """A message as a quote: a survey reason without the score typed before it ("5 Grazie,
    gentilissimi" quotes "Grazie, gentilissimi")."""
    if reason:
        from adesso.surveys.texts import after_score

        return after_score(text)
    return text


def name_for(keywords: list[str]) -> str:
    return ", ".join(keywords[:3]).capitalize() or "—"


def _final(topic: Topic, by_id: dict[int, Topic]) -> Topic:
    seen = set()
    while topic.merged_into_id and topic.merged_into_id in by_id and topic.pk not in seen:
        seen.add(topic.pk)
        topic = by_id[topic.merged_into_id]
    return topic


def do_find_topics(
    organization: Organization, days: int = 90, limit: int = 20_000, k: int | None = None
) -> dict[str, int]:
    """Cluster the organisation's first messages of the last `days` days into topics of
    criticism and praise, keeping the topics already known; returns how many of each."""
    from adesso.insights.models import MessageSentiment, Polarity, Topic

    since = timezone.now() - dt.timedelta(days=days)
    counts = {}
    for polarity in (Polarity.NEGATIVE, Polarity.POSITIVE):
        rows = list(
            MessageSentiment.objects.filter(
                organization=organization, first=True, label=polarity, analysed_at__gte=since, vector__isnull=False
            )
            .select_related("message")
            .only("message_id", "vector", "message__text")
            .order_by("-analysed_at")[:limit]
        )
        vectors = np.array([unpack(r.vector) for r in rows]).reshape(-1, DIMENSIONS)
        found = cluster([r.message.text for r in rows], vectors, k)
        with transaction.atomic():
            known = list(Topic.objects.filter(organization=organization, polarity=polarity))
            by_id = {t.pk: t for t in known}
            centres = np.array([unpack(t.centroid) for t in known]).reshape(-1, DIMENSIONS)
            used: set[int] = set()
            kept: set[int] = set()
            membership: dict[int, list[int]] = {}
            now = timezone.now()
            for cluster_ in found:
                similarity = centres @ cluster_.centroid if len(known) else np.zeros(0)
                best = next(
                    (int(i) for i in np.argsort(-similarity) if int(i) not in used and similarity[i] >= MATCH), None
                )
                if best is not None:
                    used.add(best)
                    topic = _final(known[best], by_id)
                else:
                    topic = Topic(organization=organization, polarity=polarity, name=name_for(cluster_.keywords))
                if topic.merged_into_id is None and topic.pk not in kept:
                    topic.keywords = cluster_.keywords
                    topic.centroid = pack(cluster_.centroid)
                    if not topic.named_by_person:
                        topic.name = name_for(cluster_.keywords)
                    topic.active, topic.updated_at = True, now
                    topic.save()
                    kept.add(topic.pk)
                membership.setdefault(topic.pk, []).extend(rows[i].message_id for i in cluster_.members)
            Topic.objects.filter(organization=organization, polarity=polarity).exclude(pk__in=kept).update(active=False)
            ids = [r.message_id for r in rows]
            MessageSentiment.objects.filter(message_id__in=ids).update(topic=None)
            for topic_id, members in membership.items():
                MessageSentiment.objects.filter(message_id__in=members).update(topic_id=topic_id)
        counts[str(polarity)] = len(kept)
    return counts


def nearest_topics(organization_id: int, vectors: np.ndarray, labels: Sequence[str]) -> list[int | None]:
    """For each analysed message, the active topic of its polarity it is close to, if any."""
    from adesso.insights.models import Topic

    topics = list(
        Topic.objects.filter(organization_id=organization_id, active=True, merged_into__isnull=True).only(
            "id", "polarity", "centroid"
        )
    )
    if not topics:
        return [None] * len(labels)
    out: list[int | None] = []
    for vector, label in zip(_unit(np.asarray(vectors, dtype=np.float32)), labels, strict=True):
        same = [t for t in topics if t.polarity == label]
        if not same:
            out.append(None)
            continue
        similarity = np.array([unpack(t.centroid) for t in same]) @ vector
        best = int(similarity.argmax())
        out.append(same[best].pk if similarity[best] >= ASSIGN_MIN else None)
    return out


def do_rename_topic(actor: User, topic: Topic, name: str) -> Topic:
    from adesso.lib.errors import ActionError

    name = " ".join(name.split())
    if not 1 <= len(name) <= 120:
        raise ActionError(_("A topic's name has 1 to 120 characters."), "bad_name")
    topic.name, topic.named_by_person, topic.updated_at = name, True, timezone.now()
    topic.save(update_fields=["name", "named_by_person", "updated_at"])
    return topic


def do_merge_topics(actor: User, source: Topic, target: Topic) -> Topic:
    """`source` becomes part of `target` (same organisation and polarity): its messages
    move, and later runs that find it again file it under `target`."""
    from adesso.insights.models import MessageSentiment
    from adesso.lib.errors import ActionError

    if source.pk == target.pk or source.organization_id != target.organization_id:
        raise ActionError(_("Choose another topic to merge it into."), "bad_merge")
    if source.polarity != target.polarity:
        raise ActionError(_("Criticism and praise cannot be merged."), "bad_merge")
    if target.merged_into_id:
        raise ActionError(_("That topic was itself merged into another."), "bad_merge")
    with transaction.atomic():
        moved = MessageSentiment.objects.filter(topic=source).update(topic=target)
        size_target = MessageSentiment.objects.filter(topic=target).count() - moved
        centre = unpack(target.centroid) * max(size_target, 1) + unpack(source.centroid) * max(moved, 1)
        target.centroid = pack(_unit(centre))
        target.updated_at = timezone.now()
        target.save(update_fields=["centroid", "updated_at"])
        source.merged_into, source.active, source.updated_at = target, False, timezone.now()
        source.save(update_fields=["merged_into", "active", "updated_at"])
    return target


def topic_report(organization: Organization, polarity: str | None = None, days: int = 30) -> list[dict[str, Any]]:
    """The active topics with their messages in the last `days` days and the `days` before
    (the trend), keywords and up to three quotes (read from the messages)."""
    from django.db.models import Count, Q

    from adesso.insights.models import MessageSentiment, Topic

    now = timezone.now()
    recent, before = now - dt.timedelta(days=days), now - dt.timedelta(days=2 * days)
    topics = Topic.objects.filter(organization=organization, merged_into__isnull=True, active=True)
    if polarity:
        topics = topics.filter(polarity=polarity)
    topics = topics.annotate(
        recent=Count("messages", filter=Q(messages__analysed_at__gte=recent)),
        before=Count("messages", filter=Q(messages__analysed_at__gte=before, messages__analysed_at__lt=recent)),
    ).order_by("-recent", "name")
    from adesso.privacy.models import privacy_of
    from adesso.privacy.redact import redact

    hidden = privacy_of(organization.pk).redact_kinds  # analytics hide what the admins chose
    out = []
    for topic in topics:
        members = list(
            MessageSentiment.objects.filter(topic=topic, vector__isnull=False)
            .select_related("message__conversation")
            .only("vector", "message__text", "message__code", "message__conversation__code")
            .order_by("-analysed_at")[:200]
        )
        centre = unpack(topic.centroid)
        members.sort(key=lambda m: -float(unpack(m.vector) @ centre))
        reasons = reason_codes({m.message.conversation_id for m in members})
        said = [(quote_text(m.message.text, m.message.code in reasons)[:280], m.message) for m in members]
        quotes = [
            {
                "text": redact(text, hidden) if hidden else text,
                "message": message.code,
                "conversation": message.conversation.code,
            }
            # Three voices, not one text sent by several customers.
            for text, message in distinct([m for m in said if m[0]], lambda m: m[0])[:3]
        ]
        out.append(
            {
                "code": topic.code,
                "name": topic.name,
                "polarity": topic.polarity,
                "keywords": topic.keywords,
                "messages": topic.recent,
                "previous": topic.before,
                "quotes": quotes,  # type: ignore[attr-defined]
            }
        )
    return out
