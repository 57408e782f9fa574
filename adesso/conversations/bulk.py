"""One action on many conversations at once (the inbox's checkboxes, the API's /bulk).

Each conversation goes through the same action as when it is handled alone, in its
own transaction, so one refusal (a transfer without a note, an unanswered
conversation resolved without a reason) leaves the others done and is reported
for that conversation only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from adesso.accounts.models import Team, User
from adesso.conversations import actions, tagging
from adesso.conversations.access import conversations_for
from adesso.conversations.models import Conversation, Status
from adesso.lib.errors import ActionError

ACTIONS = ("assign", "tag", "untag", "resolve", "snooze")
MAX_CODES = 100


@dataclass
class BulkChange:
    """What to do to each conversation; only the fields of `action` are read."""

    action: str
    assignee: User | None = None  # assign: None leaves the conversations unassigned
    team: Team | None = None
    note: str = ""  # assign: the handover note for those moving away from an agent
    tag: str = ""  # tag, untag
    reason: str = ""  # resolve: why the unanswered ones need no answer
    until: dt.datetime | None = None  # snooze


@dataclass
class BulkResult:
    code: str
    ok: bool
    error: str = ""
    message: str = ""
    conversation: Conversation | None = None


def selected(actor: User, codes: list[str]) -> list[Conversation]:
    """The actor's conversations among `codes`, in the order given; unknown codes dropped."""
    found = {
        c.code: c
        for c in conversations_for(actor)
        .select_related("channel", "contact", "assignee", "team")
        .filter(code__in=codes)
    }
    return [found[code] for code in dict.fromkeys(codes) if code in found]


def unanswered(conversations: list[Conversation]) -> list[Conversation]:
    """Those whose customer still waits for a human answer: resolving them needs a reason."""
    return [c for c in conversations if c.waiting_since is not None and c.status != Status.RESOLVED]


def _apply(actor: User, conversation: Conversation, change: BulkChange) -> None:
    if change.action == "assign":
        actions.do_assign(actor, conversation, change.assignee, change.team, change.note)
    elif change.action == "tag":
        tagging.do_tag(actor, conversation, change.tag)
    elif change.action == "untag":
        tagging.do_untag(actor, conversation, change.tag)
    elif change.action == "resolve":
        actions.do_change_status(actor, conversation, Status.RESOLVED, change.reason)
    elif change.action == "snooze" and change.until is not None:
        actions.do_snooze(actor, conversation, change.until)


def do_bulk(actor: User, codes: list[str], change: BulkChange) -> list[BulkResult]:
    """Apply `change` to each conversation of `codes` the actor may see; one result per
    distinct code, in order (`not_found` for codes of no conversation of theirs)."""
    if change.action not in ACTIONS:
        raise ActionError(
            _("Unknown action: use one of %(actions)s.") % {"actions": ", ".join(ACTIONS)}, "invalid_action"
        )
    codes = list(dict.fromkeys(codes))
    if not codes:
        raise ActionError(_("Select at least one conversation."), "no_selection")
    if len(codes) > MAX_CODES:
        raise ActionError(_("At most %(n)d conversations at once.") % {"n": MAX_CODES}, "too_many")
    if change.action in ("tag", "untag"):
        change.tag = tagging.clean_tag_name(change.tag)
    if change.action == "snooze" and (change.until is None or change.until.tzinfo is None):
        raise ActionError(_("Pick a date and time, with its time zone, to snooze until."), "invalid_time")
    found = {c.code: c for c in selected(actor, codes)}
    results = []
    for code in codes:
        conversation = found.get(code)
        if conversation is None:
            results.append(BulkResult(code, False, "not_found", _("No such conversation.")))
            continue
        try:
            _apply(actor, conversation, change)
        except ActionError as exc:
            results.append(BulkResult(code, False, exc.code, exc.message, conversation))
        else:
            results.append(BulkResult(code, True, conversation=conversation))
    return results
