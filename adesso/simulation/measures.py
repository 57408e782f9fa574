"""The figures of a simulation, read from what the real code stored.

A customer turn starts with a customer message that arrives while nothing is
waiting for an answer; its first response is the first human (not automatic,
not internal) message back. Its silence is the time until the first message
back of any kind (an acknowledgement counts here); a turn with none when the
simulation ends is silent up to the end. Besides, the longest quiet: the
longest stretch of a turn between two messages back (the customer's message,
the acknowledgement, updates, the answer), which shows what updates do.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from adesso.channels.models import Channel
from adesso.conversations.models import ConversationEvent, Direction, EventKind, Message

# Below this, "how long" is rounding: estimates and waits are compared from here up.
ESTIMATE_FLOOR_S = 60.0
KEYS = ("within_target_share", "first_response_p50_s", "first_response_p90_s", "first_response_max_s", "max_silence_s")


@dataclass
class Turn:
    conversation_id: int
    channel: str
    start: dt.datetime
    last_heard: dt.datetime  # the customer's message or the latest message back
    first_contact: dt.datetime | None = None  # first message back of any kind
    answered: dt.datetime | None = None
    longest_quiet: float = 0.0

    def hear(self, at: dt.datetime) -> None:
        self.longest_quiet = max(self.longest_quiet, (at - self.last_heard).total_seconds())
        self.last_heard = at
        if self.first_contact is None:
            self.first_contact = at

    def silence_seconds(self) -> float:
        """Until the first message back; unanswered turns have heard `end` (see `turns`)."""
        assert self.first_contact is not None
        return (self.first_contact - self.start).total_seconds()

    def response_seconds(self, end: dt.datetime) -> float:
        """The first response, or the wait so far (a lower bound) when unanswered at `end`."""
        return ((self.answered or end) - self.start).total_seconds()


def turns(organization_id: int, end: dt.datetime) -> list[Turn]:
    names = dict(Channel.objects.filter(organization_id=organization_id).values_list("pk", "name"))
    rows = (
        Message.objects.filter(organization_id=organization_id)
        .order_by("conversation_id", "created_at", "pk")
        .values_list("conversation_id", "channel_id", "direction", "auto", "internal", "created_at")
    )
    found: list[Turn] = []
    open_turn: Turn | None = None
    for conversation_id, channel_id, direction, auto, internal, at in rows.iterator(chunk_size=2000):
        if open_turn is not None and open_turn.conversation_id != conversation_id:
            open_turn.hear(end)  # unanswered at the end: silent up to the end
            open_turn = None
        if direction == Direction.INCOMING:
            if open_turn is None:
                open_turn = Turn(conversation_id, names[channel_id], at, at)
                found.append(open_turn)
        elif not internal and open_turn is not None:
            open_turn.hear(at)
            if not auto:
                open_turn.answered = at
                open_turn = None
    if open_turn is not None:
        open_turn.hear(end)
    return found


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(found: list[Turn], target_seconds: int, end: dt.datetime) -> dict[str, Any]:
    if not found:
        return dict.fromkeys(KEYS)
    waits = [t.response_seconds(end) for t in found]
    within = sum(1 for t, w in zip(found, waits, strict=True) if t.answered is not None and w <= target_seconds)
    return {
        "within_target_share": round(within / len(found), 4),
        "first_response_p50_s": round(percentile(waits, 0.5), 1),
        "first_response_p90_s": round(percentile(waits, 0.9), 1),
        "first_response_max_s": round(max(waits), 1),
        "max_silence_s": round(max(t.silence_seconds() for t in found), 1),
    }


def estimates(organization_id: int, found: list[Turn], end: dt.datetime) -> dict[str, Any]:
    """How the acknowledgements' promised waits compare with the waits that followed."""
    by_conversation: dict[int, list[Turn]] = defaultdict(list)
    for turn in found:
        by_conversation[turn.conversation_id].append(turn)
    events = (
        ConversationEvent.objects.filter(organization_id=organization_id, kind=EventKind.AUTO_SENT)
        .order_by("created_at", "pk")
        .values_list("conversation_id", "created_at", "data")
    )
    acks = updates = 0
    ratios: list[float] = []
    acknowledged: set[int] = set()
    for conversation_id, at, data in events.iterator(chunk_size=2000):
        purpose = (data or {}).get("purpose")
        if purpose == "update":
            updates += 1
        if purpose != "ack":
            continue
        acks += 1
        matching = [t for t in by_conversation.get(conversation_id, []) if t.start <= at <= (t.answered or end)]
        if not matching:
            continue
        turn = matching[0]
        acknowledged.add(id(turn))
        promised = (data or {}).get("estimate_seconds")
        if turn.answered is None or not isinstance(promised, int | float):
            continue
        ratios.append(ratio(promised, (turn.answered - at).total_seconds()))
    return {
        "acknowledgements": acks,
        "acknowledged_share": round(len(acknowledged) / len(found), 4) if found else None,
        "updates": updates,
        **accuracy(ratios),
    }


def ratio(estimate: float, actual: float) -> float:
    """Estimate / actual wait, both floored at a minute."""
    return max(float(estimate), ESTIMATE_FLOOR_S) / max(actual, ESTIMATE_FLOOR_S)


def accuracy(ratios: list[float]) -> dict[str, Any]:
    """How many estimates were within a factor 2 of the wait, and the median ratio."""
    return {
        "estimates_compared": len(ratios),
        "estimate_within_2x_share": (
            round(sum(1 for r in ratios if 0.5 <= r <= 2.0) / len(ratios), 4) if ratios else None
        ),
        "estimate_ratio_median": round(statistics.median(ratios), 3) if ratios else None,
    }


def report(organization_id: int, target_seconds: int, end: dt.datetime) -> dict[str, Any]:
    """The figures of the whole run and per channel, plus the estimates' accuracy."""
    found = turns(organization_id, end)
    result = summary(found, target_seconds, end)
    result.update(estimates(organization_id, found, end))
    return result


def summary(found: list[Turn], target_seconds: int, end: dt.datetime) -> dict[str, Any]:
    """The waits' figures of the whole run and per channel."""
    result = figures(found, target_seconds, end)
    channels = sorted({t.channel for t in found})
    result["per_channel"] = {
        name: figures([t for t in found if t.channel == name], target_seconds, end) for name in channels
    }
    result["turns"] = len(found)
    result["turns_per_channel"] = {name: sum(1 for t in found if t.channel == name) for name in channels}
    result["unanswered_at_end"] = sum(1 for t in found if t.answered is None)
    result["longest_quiet_s"] = round(max(t.longest_quiet for t in found), 1) if found else None
    return result
