"""Sentiment of customer messages as they arrive, in the worker.

The timer tick asks `has_pending()` (one indexed query) and enqueues
`insights.tasks.analyse_messages`; each run analyses at most `BATCH` messages (a
second or two of the worker: inbound processing is never held up for long) and
enqueues itself again while more wait. `adesso analyse` runs the same over a whole
backlog (1,000,000 messages) with a progress bar.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db.models import Max, Min, QuerySet

from adesso.conversations.models import Direction, Message
from adesso.insights.models import MessageSentiment
from adesso.insights.sentiment import classifier_for, embed, from_probabilities, probabilities
from adesso.insights.topics import nearest_topics, pack, reason_codes

BATCH = 64
# Ids are handed out before commits land, so a message may appear below the highest
# analysed id: the last WINDOW ids are looked at again (only the unanalysed ones).
WINDOW = 2000


def enabled() -> bool:
    return bool(getattr(settings, "INSIGHTS_ANALYSE_LIVE", True))


def _cursor() -> int:
    # Messages are analysed in id order: everything up to the highest analysed id is done
    # (empty and internal ones are skipped for good), so no scan repeats over the backlog.
    return MessageSentiment.objects.aggregate(last=Max("message_id"))["last"] or 0


def _pending(after: int) -> list[Message]:
    return list(
        _incoming(after)
        .exclude(text="")
        .select_related("organization")
        .only("id", "code", "text", "organization", "conversation_id")
        .order_by("id")[:BATCH]
    )


def _incoming(after: int) -> QuerySet[Message]:
    return Message.objects.filter(
        id__gt=max(0, after - WINDOW), direction=Direction.INCOMING, internal=False, auto=False, sentiment__isnull=True
    )


def has_pending() -> bool:
    return bool(_incoming(_cursor()).exclude(text="").exists())


def analyse_batch(after: int | None = None) -> tuple[int, int]:
    """Analyse the next batch after `after` (default: the stored cursor); returns
    (messages analysed, the last id looked at; 0 when none was left)."""
    messages = _pending(_cursor() if after is None else after)
    if not messages:
        return 0, 0
    by_org: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        by_org[message.organization_id].append(message)
    vectors = embed([m.text for m in messages])
    index = {m.id: i for i, m in enumerate(messages)}
    firsts = set(
        Message.objects.filter(
            conversation_id__in={m.conversation_id for m in messages}, direction=Direction.INCOMING, internal=False
        )
        .values("conversation_id")
        .annotate(first=Min("id"))
        .values_list("first", flat=True)
    )
    # A survey's reason, in the customer's words, is what topics of praise and criticism
    # are made of as much as a first message: it is clustered with them (`first`).
    reasons = reason_codes({m.conversation_id for m in messages})
    firsts |= {m.id for m in messages if m.code in reasons}
    rows = []
    for org_id, group in by_org.items():
        classifier = classifier_for(group[0].organization)
        group_vectors = vectors[[index[m.id] for m in group]]
        results = from_probabilities(probabilities(classifier, [m.text for m in group], group_vectors))
        nearest = nearest_topics(org_id, group_vectors, [r.label for r in results])
        rows += [
            MessageSentiment(
                message_id=m.id,
                organization_id=m.organization_id,
                label=r.label,
                score=r.score,
                first=m.id in firsts,
                vector=pack(v) if m.id in firsts else None,
                topic_id=topic if m.id in firsts else None,
            )
            for m, r, v, topic in zip(group, results, group_vectors, nearest, strict=True)
        ]
    MessageSentiment.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows), messages[-1].id


def do_dispatch_analysis() -> int:
    """The timer's step: enqueue analysis when customer messages wait for it and no chain
    of analysis tasks is on its way already (adesso/insights/tasks.py)."""
    if not enabled() or not has_pending():
        return 0
    from adesso.insights.tasks import enqueue_analysis

    return int(enqueue_analysis())
