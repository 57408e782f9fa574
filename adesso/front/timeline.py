"""The conversation timeline: the contact's earlier messages on every channel, then
this conversation's messages interleaved with what happened (assignments,
transfers, status changes), each described in the agent's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from adesso.contacts.queries import MergedSender, merged_senders, sender_at
from adesso.conversations.models import (
    Conversation,
    ConversationEvent,
    Direction,
    EventKind,
    Message,
    Priority,
    Status,
)
from adesso.front.templatetags.adesso_front import full_when

# Events worth a line in the timeline; the others are already visible as messages.
SHOWN_EVENTS = {
    EventKind.CREATED, EventKind.ASSIGNED, EventKind.TRANSFERRED, EventKind.STATUS_CHANGED,
    EventKind.SNOOZED, EventKind.PRIORITY_CHANGED, EventKind.CONTACT_MERGED,
    EventKind.CONTACT_UNMERGED, EventKind.DELIVERY_FAILED, EventKind.TAGGED, EventKind.UNTAGGED,
    EventKind.SURVEY_ANSWERED, EventKind.SURVEY_REASON,
}


@dataclass
class Entry:
    kind: str  # "message", "event" or "divider" (start of an earlier conversation)
    at: dt.datetime
    message: Message | None = None
    text: str = ""
    note: str = ""
    conversation: Conversation | None = None
    # A customer message's sender, when it is not the conversation's contact of today
    # (written before a merge moved the conversation to another contact).
    sender: str = ""
    # Why a person resolved a conversation whose customer had no answer.
    reason: str = ""


def _sender(message: Message, merges: dict[int, list[MergedSender]]) -> str:
    moved = merges.get(message.conversation_id)
    if not moved or message.direction != Direction.INCOMING:
        return ""
    return sender_at(moved, message.created_at, "")


def earlier_entries(history: list[Message]) -> list[Entry]:
    """Messages of the contact's other conversations, a divider where each one starts."""
    entries: list[Entry] = []
    current = None
    merges = merged_senders({m.conversation_id for m in history})
    for message in history:
        if message.conversation_id != current:
            current = message.conversation_id
            entries.append(Entry("divider", message.created_at, message=message,
                                 conversation=message.conversation))
        entries.append(Entry("message", message.created_at, message=message, sender=_sender(message, merges)))
    return entries


def current_entries(
    messages: list[Message], events: list[ConversationEvent], names: dict[str, str],
    teams: dict[str, str],
) -> list[Entry]:
    moved = any(e.kind == EventKind.CONTACT_MERGED for e in events)
    merges = merged_senders({m.conversation_id for m in messages}) if moved else {}
    entries = [Entry("message", m.created_at, message=m, sender=_sender(m, merges)) for m in messages]
    entries += [
        Entry("event", e.created_at, text=describe(e, names, teams), note=e.data.get("note", ""),
              reason=_resolve_reason(e))
        for e in events
        if e.kind in SHOWN_EVENTS
    ]
    # Stable sort: at equal times a message stays before the event it caused.
    return sorted(entries, key=lambda entry: entry.at)


def _resolve_reason(event: ConversationEvent) -> str:
    if event.kind == EventKind.STATUS_CHANGED and event.data.get("unanswered"):
        return str(event.data.get("reason") or "")
    return ""


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def describe(event: ConversationEvent, names: dict[str, str], teams: dict[str, str]) -> str:
    """One sentence saying what happened, with agents' and teams' names."""
    data = event.data
    actor = event.actor.display_name if event.actor else _("Adesso")

    def agent(key: str) -> str:
        return names.get(data.get(key) or "", _("a former agent"))

    if event.kind == EventKind.CREATED:
        return _("Conversation started")
    if event.kind == EventKind.ASSIGNED:
        team = teams.get(data.get("team") or "")
        if data.get("reason") == "replied":
            text = _("%(agent)s replied and took the conversation") % {"agent": agent("to")}
        elif not data.get("to"):
            text = _("%(actor)s left the conversation unassigned") % {"actor": actor}
        elif event.actor and event.actor.code == data.get("to"):
            text = _("%(agent)s took the conversation") % {"agent": actor}
        else:
            text = _("%(actor)s assigned the conversation to %(agent)s") % {
                "actor": actor, "agent": agent("to")}
        if team:
            text += " · " + _("team %(team)s") % {"team": team}
        return text
    if event.kind == EventKind.TRANSFERRED:
        if not data.get("to"):
            return _("%(actor)s took the conversation away from %(previous)s") % {
                "actor": actor, "previous": agent("from")}
        return _("%(actor)s transferred the conversation from %(previous)s to %(agent)s") % {
            "actor": actor, "previous": agent("from"), "agent": agent("to")}
    if event.kind == EventKind.STATUS_CHANGED:
        reason = data.get("reason")
        if reason == "customer_message":
            return _("The customer wrote again: conversation reopened")
        if reason == "snooze_due":
            return _("Snooze over: conversation reopened")
        return _("%(actor)s changed the status from %(previous)s to %(status)s") % {
            "actor": actor, "previous": _label(Status, data.get("from")),
            "status": _label(Status, data.get("to")),
        }
    if event.kind == EventKind.SNOOZED:
        try:
            until = full_when(dt.datetime.fromisoformat(data.get("until", "")))
        except ValueError:
            until = "?"
        return _("%(actor)s snoozed the conversation until %(until)s") % {
            "actor": actor, "until": until}
    if event.kind == EventKind.PRIORITY_CHANGED:
        return _("%(actor)s set the priority to %(priority)s") % {
            "actor": actor, "priority": _label(Priority, data.get("to"))}
    if event.kind == EventKind.CONTACT_MERGED:
        return _("%(actor)s merged this contact with another one") % {"actor": actor}
    if event.kind == EventKind.DELIVERY_FAILED:
        reason = str(data.get("error") or data.get("reason") or "")[:300]
        if reason:
            return _("A message could not be delivered: %(reason)s") % {"reason": reason}
        return _("A message could not be delivered")
    if event.kind == EventKind.CONTACT_UNMERGED:
        return _("%(actor)s undid a merge of this contact") % {"actor": actor}
    if event.kind == EventKind.TAGGED:
        return _("%(actor)s added the tag %(tag)s") % {"actor": actor, "tag": data.get("tag", "")}
    if event.kind == EventKind.UNTAGGED:
        return _("%(actor)s removed the tag %(tag)s") % {"actor": actor, "tag": data.get("tag", "")}
    if event.kind == EventKind.SURVEY_ANSWERED:
        return _("Survey: the customer gave %(score)s (%(kind)s)") % {
            "score": data.get("score", "?"), "kind": str(data.get("kind", "")).upper()}
    if event.kind == EventKind.SURVEY_REASON:
        # Given in a message, the reason is in the timeline already; from the survey's page, here.
        return _("Survey: the reason, in the customer's words: %(reason)s") % {"reason": data.get("reason", "")}
    return _label(EventKind, event.kind)
