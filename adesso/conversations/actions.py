"""Every state change of a conversation: replies, assignment, status (intake: adesso.intake).

Each action runs in one transaction, records a ConversationEvent and leaves
side effects (live updates, deliveries) to run after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.accounts.cached import org_settings
from adesso.accounts.models import User
from adesso.channels.registry import get_kind
from adesso.conversations.events import record_event
from adesso.conversations.models import (
    Attachment,
    Conversation,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Priority,
    Status,
)
from adesso.conversations.signals import capacity_freed, message_written, resolved, snoozed
from adesso.lib import batch, rowsql
from adesso.lib.errors import ActionError
from adesso.sla import engine as sla

if TYPE_CHECKING:
    from adesso.accounts.models import Team
    from adesso.conversations.files import OutgoingFile


def preview(text: str) -> str:
    """A message's summary as lists show it: one line, at most 200 characters."""
    return " ".join(text.split())[:200]


def do_send_reply(
    agent: User, conversation: Conversation, text: str, internal: bool = False,
    attachments: Sequence[OutgoingFile] = (),
) -> Message:
    """An agent answers the customer (or writes an internal note).

    A public reply is the human answer: it stops the wait. An unassigned
    conversation becomes the replying agent's, so the customer keeps one person.
    `attachments` (checked by adesso.conversations.files) go out with a public reply
    only on a channel whose kind can send files.
    """
    text = text.strip()
    if not text and not attachments:
        raise ActionError(_("The reply is empty."), "empty")
    if conversation.organization_id != agent.organization_id:
        raise ActionError(_("No such conversation."), "not_found")
    if attachments and not internal and not get_kind(conversation.channel.kind).supports_attachments:
        raise ActionError(_("This channel cannot send files: write the reply without them."),
                          "attachments_unsupported")
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            organization_id=conversation.organization_id, conversation=conversation,
            channel_id=conversation.channel_id, direction=Direction.OUTGOING, internal=internal,
            author=agent, text=text, created_at=now,
            delivery_status=DeliveryStatus.NONE if internal else DeliveryStatus.PENDING,
        )
        for item in attachments:
            attachment = Attachment(organization_id=conversation.organization_id, message=message,
                                    filename=item.filename, content_type=item.content_type, size=len(item.content))
            attachment.file.save(item.filename, ContentFile(item.content), save=False)
            attachment.save()
        fields = ["updated_at"]
        conversation.updated_at = now
        if not internal and conversation.waiting_since is not None:
            # The time this answer took its author, for the live estimates.
            began = max(conversation.waiting_since, agent.last_reply_at or conversation.waiting_since)
            message.handle_seconds = max(0, int((now - began).total_seconds()))
            message.save(update_fields=["handle_seconds"])
        if not internal:
            User.objects.filter(pk=agent.pk).update(last_reply_at=now)
            agent.last_reply_at = now
            conversation.promise_at = conversation.promise_check_at = None
            fields += ["promise_at", "promise_check_at"]
            conversation.last_agent_message_at = now
            conversation.waiting_since = None
            conversation.last_message_preview = preview(text or ", ".join(f.filename for f in attachments))
            fields += ["last_agent_message_at", "waiting_since", "last_message_preview"]
            if conversation.first_response_at is None:
                conversation.first_response_at = now
                fields.append("first_response_at")
        if conversation.assignee_id is None and not internal:
            conversation.assignee = agent
            conversation.queued_at = None
            fields += ["assignee", "queued_at"]
            record_event(conversation, EventKind.ASSIGNED, agent,
                         {"to": agent.code, "reason": "replied"})
        fields += sla.refresh(conversation, now)
        conversation.save(update_fields=fields)
        record_event(
            conversation, EventKind.NOTE_ADDED if internal else EventKind.MESSAGE_SENT, agent,
            {"message": message.code},
        )
        if not internal:
            message_written.send(sender=Message, message=message)
    return message


def do_send_auto_message(
    conversation: Conversation, text: str, purpose: str, data: dict[str, Any] | None = None
) -> Message:
    """Adesso itself writes to the customer (an acknowledgement, an update).

    Delivered like a reply, but never a human answer: the wait, the SLA clocks
    and the silence guard are untouched.
    """
    now = timezone.now()
    # No savepoint of its own: inside a transaction it stands or falls with its caller's.
    with transaction.atomic(savepoint=False):
        message = rowsql.new(
            Message, organization_id=conversation.organization_id, conversation=conversation,
            channel_id=conversation.channel_id, direction=Direction.OUTGOING, auto=True,
            text=text, created_at=now, delivery_status=DeliveryStatus.PENDING,
        )
        # In a batch of the inbound pipeline, inserted with the batch's others.
        if not batch.insert_later(message):
            message.save(force_insert=True)
        record_event(conversation, EventKind.AUTO_SENT, None,
                     {**(data or {}), "message": message.code, "purpose": purpose})
        message_written.send(sender=Message, message=message)
    return message


def do_assign(
    actor: User, conversation: Conversation, assignee: User | None, team: Team | None = None,
    note: str = "",
) -> Conversation:
    """Assign or transfer. Moving a conversation away from an agent needs a handover note,
    so the next agent sees at the top what the customer already said."""
    if assignee is not None and assignee.organization_id != conversation.organization_id:
        raise ActionError(_("No such agent."), "not_found")
    if team is not None and team.organization_id != conversation.organization_id:
        raise ActionError(_("No such team."), "not_found")
    note = note.strip()
    previous = conversation.assignee
    team_changed = team is not None and team.pk != conversation.team_id
    if previous == assignee and not team_changed:
        return conversation
    transfer = previous is not None and previous != assignee
    if transfer and not note:
        raise ActionError(
            _("A transfer needs a handover note, so the customer does not have to repeat themselves."),
            "note_required",
        )
    with transaction.atomic():
        conversation.assignee = assignee
        fields = ["assignee", "updated_at", "queued_at"]
        if assignee is not None:
            conversation.queued_at = None
        elif conversation.status == Status.OPEN and org_settings(conversation.organization_id).auto_assign:
            # Nobody's now: it waits in the queue for the next free agent.
            conversation.queued_at = conversation.waiting_since or timezone.now()
        if previous is not None or assignee is None:
            capacity_freed.send(sender=Conversation, organization_id=conversation.organization_id)
        if team_changed:
            conversation.team = team
            fields.append("team")
        conversation.updated_at = timezone.now()
        if team_changed:
            fields += sla.refresh(conversation, conversation.updated_at, reselect=True)
        conversation.save(update_fields=fields)
        data = {
            "from": previous.code if previous else None,
            "to": assignee.code if assignee else None,
            "team": conversation.team.code if conversation.team else None,
        }
        if note:
            data["note"] = note
        record_event(conversation, EventKind.TRANSFERRED if transfer else EventKind.ASSIGNED,
                     actor, data)
    return conversation


def do_change_status(
    actor: User | None, conversation: Conversation, status: str, reason: str = "", sensitive: bool = False
) -> Conversation:
    """`sensitive`: the agent marks a conversation being resolved as one to send no survey after."""
    if status not in Status.values:
        raise ActionError(_("Unknown status."), "invalid_status")
    if status == Status.SNOOZED:
        raise ActionError(_("Use snooze with a time to snooze a conversation."), "invalid_status")
    if status == conversation.status:
        return conversation
    reason = reason.strip()
    unanswered = status == Status.RESOLVED and conversation.waiting_since is not None
    if unanswered and not reason:
        # The silence guard: nobody leaves without an answer unless a person says why.
        raise ActionError(
            _("The customer's last message has no answer yet: reply, or say why it needs none."),
            "unanswered",
        )
    now = timezone.now()
    with transaction.atomic():
        previous = conversation.status
        conversation.status = status
        conversation.snoozed_until = None
        conversation.updated_at = now
        conversation.resolved_at = now if status == Status.RESOLVED else None
        fields = ["status", "snoozed_until", "updated_at", "resolved_at"]
        if status != Status.OPEN:
            # Off the queue, and its agent has room for the next one.
            conversation.queued_at = None
            fields.append("queued_at")
            capacity_freed.send(sender=Conversation, organization_id=conversation.organization_id)
        if unanswered:
            # A person decided the message needs no answer: it is no longer a silence.
            conversation.waiting_since = None
            fields.append("waiting_since")
        conversation.save(update_fields=fields + sla.refresh(conversation, now))
        data: dict[str, Any] = {"from": previous, "to": status}
        if reason:
            data["reason"] = reason
        if unanswered:
            data["unanswered"] = True
        if sensitive and status == Status.RESOLVED:
            data["sensitive"] = True
        record_event(conversation, EventKind.STATUS_CHANGED, actor, data)
        if status == Status.RESOLVED:
            resolved.send(sender=Conversation, conversation=conversation, actor=actor, sensitive=sensitive)
    return conversation


def do_snooze(actor: User, conversation: Conversation, until: dt.datetime) -> Conversation:
    now = timezone.now()
    if timezone.is_naive(until):
        raise ActionError(_("The snooze time needs a time zone."), "invalid_time")
    if until <= now:
        raise ActionError(_("Snooze until a time in the future."), "invalid_time")
    with transaction.atomic():
        previous = conversation.status
        conversation.status = Status.SNOOZED
        conversation.snoozed_until = until
        conversation.updated_at = now
        conversation.queued_at = None
        fields = ["status", "snoozed_until", "updated_at", "queued_at"]
        capacity_freed.send(sender=Conversation, organization_id=conversation.organization_id)
        conversation.save(update_fields=fields + sla.refresh(conversation, now))
        record_event(conversation, EventKind.SNOOZED, actor,
                     {"from": previous, "until": until.isoformat()})
        # Past what the waiting customer was told: an honest update now, not silence.
        snoozed.send(sender=Conversation, conversation=conversation, until=until, now=now)
    return conversation


def do_wake_snoozed(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Reopen conversations whose snooze is due. Claims each row with compare-and-set,
    so several timer processes never wake one twice."""
    now = now or timezone.now()
    woken = 0
    due = list(
        Conversation.objects.filter(snoozed_until__lte=now, status=Status.SNOOZED)
        .order_by("snoozed_until")
        .values_list("pk", "snoozed_until")[:limit]
    )
    for pk, until in due:
        with transaction.atomic():
            claimed = Conversation.objects.filter(
                pk=pk, status=Status.SNOOZED, snoozed_until=until
            ).update(status=Status.OPEN, snoozed_until=None, updated_at=now)
            if claimed:
                conversation = Conversation.objects.get(pk=pk)
                record_event(conversation, EventKind.STATUS_CHANGED,
                             data={"from": Status.SNOOZED, "to": Status.OPEN, "reason": "snooze_due"})
                woken += 1
    return woken


def do_set_priority(actor: User, conversation: Conversation, priority: int) -> Conversation:
    if priority not in Priority.values:
        raise ActionError(_("Unknown priority."), "invalid_priority")
    if priority == conversation.priority:
        return conversation
    with transaction.atomic():
        previous = conversation.priority
        conversation.priority = priority
        conversation.updated_at = timezone.now()
        fields = ["priority", "updated_at"]
        conversation.save(update_fields=fields + sla.refresh(conversation, conversation.updated_at, reselect=True))
        record_event(conversation, EventKind.PRIORITY_CHANGED, actor,
                     {"from": previous, "to": priority})
    return conversation
