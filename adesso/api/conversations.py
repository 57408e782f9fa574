"""Conversations: list, read, reply, assign, status, snooze, priority."""

import base64
import binascii
import datetime as dt
from dataclasses import asdict
from typing import Any, Literal

from django.db.models import prefetch_related_objects
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from adesso.accounts.access import access_agent_by_code, access_team_by_code
from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import (
    MAX_OFFSET,
    BodyIn,
    Code,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    ErrorOut,
    MessageOut,
    When,
)
from adesso.coach.actions import send_checked_reply
from adesso.contacts.queries import merged_senders, sender_at
from adesso.conversations import actions, files, queries
from adesso.conversations.access import access_conversation_by_code
from adesso.conversations.models import Conversation, Direction, Message
from adesso.conversations.snoozing import snooze_warnings
from adesso.lib.errors import ActionError
from adesso.realtime.collision import STALE, check_not_stale

router = Router()


class ListFilters(Schema):
    status: str | None = Field("open", description="open, pending, snoozed, resolved or all")
    assignee: str | None = Field(None, max_length=64, description="me, none or an agent's code")
    team: str | None = Field(None, max_length=64, description="a team's code, or mine")
    channel: str | None = Field(None, max_length=64, description="a channel's code")
    tag: str | None = Field(None, max_length=64, description="a tag's name: only conversations with it")
    ordering: str = Field(
        "waiting",
        description="waiting (longest first), sla (least time left first), -updated, updated, -created, created",
    )
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get("", response={200: ConversationPage, 400: ErrorOut})
def list_conversations(request: AgentRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    try:
        qs = queries.inbox(
            request.auth,
            status=filters.status,
            assignee=filters.assignee,
            team=filters.team,
            channel=filters.channel,
            ordering=filters.ordering,
            tag=filters.tag,
        )
    except queries.FilterError as exc:
        raise ActionError(str(exc), "invalid_filter") from None
    items = list(qs[filters.offset : filters.offset + filters.limit])
    prefetch_related_objects(items, "surveys")
    return {
        "count": qs.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [serialize.conversation(c) for c in items],
    }


def detail(conversation: Conversation) -> dict[str, Any]:
    messages = queries.conversation_messages(conversation)
    events = queries.conversation_events(conversation)
    history = queries.contact_history(conversation.contact, exclude=conversation)
    note = queries.handover_note(events)
    # Each customer message under the name it was sent with, also before a merge.
    merges = merged_senders({conversation.pk, *(m.conversation_id for m in history)})
    name = conversation.contact.display_name

    def sender(m: Message) -> str | None:
        if m.direction != Direction.INCOMING:
            return None
        return sender_at(merges.get(m.conversation_id, []), m.created_at, name)

    return {
        **serialize.conversation(conversation),
        "messages": [serialize.message(m, conversation.code, conversation.channel, sender(m)) for m in messages],
        "events": [serialize.event(e) for e in events],
        "handover_note": note.data["note"] if note else None,
        "resolution_reason": queries.resolution_reason(events),
        "history": [serialize.message(m, m.conversation.code, m.channel, sender(m)) for m in history],
    }


@router.get("/{code}", response={200: ConversationDetail, 404: ErrorOut})
def get_conversation(request: AgentRequest, code: Code) -> dict[str, Any]:
    """One conversation with its messages, events, the handover note and the
    contact's history on every other conversation and channel."""
    return detail(access_conversation_by_code(request.auth, code))


class ReplyAttachmentIn(BodyIn):
    filename: str = Field(..., min_length=1, max_length=200, description="its extension decides the type")
    content_base64: str = Field(..., min_length=1)


class ReplyIn(BodyIn):
    text: str = Field(..., min_length=1, max_length=100_000)
    internal: bool = False
    confirmed: bool = Field(False, description="send although the reply coach found a serious pattern")
    if_last_message: str | None = Field(
        None, max_length=16,
        description="the code of the newest message the client has seen: a public reply is refused "
        "with 409 stale_reply when the customer or another agent wrote after it",
    )
    attachments: list[ReplyAttachmentIn] = Field(
        [], max_length=files.MAX_FILES,
        description="files sent with the reply on channels that can send them (images, PDF, text, office "
        "documents; each up to ADESSO_MAX_ATTACHMENT_BYTES); a refused one answers 400 attachment_type, "
        "attachment_too_large or attachments_unsupported (the channel cannot send files)")


def _decoded(items: list[ReplyAttachmentIn]) -> list[files.OutgoingFile]:
    decoded = []
    for item in items:
        try:
            decoded.append((item.filename, base64.b64decode(item.content_base64, validate=True)))
        except (binascii.Error, ValueError):
            raise ActionError(f"Attachment {item.filename!r} is not valid base64", "invalid_attachment") from None
    return files.check_files(decoded)


@router.post("/{code}/messages", response={201: MessageOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut})
def reply(request: AgentRequest, code: Code, payload: ReplyIn) -> Status:
    """Answer the customer, or with `internal: true` write a note only agents see. A public
    reply the coach finds serious fault with answers 400 `coach_confirm` (send again with
    `confirmed: true`) or `coach_blocked` (see POST /coach). With `if_last_message`, a public
    reply written while the customer or another agent wrote answers 409 `stale_reply`
    (read the conversation, then send again with the newest message's code, or without it)."""
    conversation = access_conversation_by_code(request.auth, code)
    if not payload.internal:
        try:
            check_not_stale(request.auth, conversation, payload.if_last_message)
        except ActionError as e:
            if e.code != STALE:
                raise
            return Status(409, {"error": e.code, "message": e.message})
    attachments = _decoded(payload.attachments)
    message = send_checked_reply(request.auth, conversation, payload.text, payload.internal, payload.confirmed,
                                 attachments)
    return Status(201, serialize.message(message, conversation.code, conversation.channel))


class AssignIn(BodyIn):
    assignee: str | None = Field(None, max_length=64, description="an agent's code, or null to unassign")
    team: str | None = Field(None, max_length=64, description="a team's code")
    note: str = Field("", max_length=5000, description="handover note; required for a transfer")


@router.post("/{code}/assign", response={200: ConversationOut, 400: ErrorOut, 404: ErrorOut})
def assign(request: AgentRequest, code: Code, payload: AssignIn) -> dict[str, Any]:
    """Assign, or transfer from another agent: a transfer needs a handover note."""
    conversation = access_conversation_by_code(request.auth, code)
    assignee = access_agent_by_code(request.auth, payload.assignee) if payload.assignee else None
    team = access_team_by_code(request.auth, payload.team) if payload.team else None
    actions.do_assign(request.auth, conversation, assignee, team, payload.note)
    return serialize.conversation(conversation)


class StatusIn(BodyIn):
    status: Literal["open", "pending", "resolved"]
    reason: str = Field("", max_length=2000)
    sensitive: bool = Field(False, description="Resolving: a sensitive conversation gets no survey.")


@router.post("/{code}/status", response={200: ConversationOut, 400: ErrorOut, 404: ErrorOut})
def change_status(request: AgentRequest, code: Code, payload: StatusIn) -> dict[str, Any]:
    conversation = access_conversation_by_code(request.auth, code)
    actions.do_change_status(request.auth, conversation, payload.status, payload.reason, payload.sensitive)
    return serialize.conversation(conversation)


class SnoozeIn(BodyIn):
    until: When = Field(..., description="ISO 8601 with a time zone")

    @field_validator("until")
    @classmethod
    def _storable(cls, value: dt.datetime) -> dt.datetime:
        # Databases store UTC: a time that has none (year 9999 at -14:00) cannot be stored.
        if value.tzinfo is not None:
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                raise ValueError("the time is out of range") from None
        return value


class SnoozeWarningOut(Schema):
    kind: Literal["promise", "sla"] = Field(
        ..., description="promise: the time told to the waiting customer; sla: the SLA due time"
    )
    due_at: dt.datetime
    message: str


class SnoozeOut(ConversationOut):
    warnings: list[SnoozeWarningOut] = Field(
        ..., description="what this snooze breaks (empty when nothing): a promise past its time is "
        "updated at once by an automatic message to the customer"
    )


@router.post("/{code}/snooze", response={200: SnoozeOut, 400: ErrorOut, 404: ErrorOut})
def snooze(request: AgentRequest, code: Code, payload: SnoozeIn) -> dict[str, Any]:
    """Hide the conversation until `until`; a customer's message wakes it earlier. The snooze
    is done even when it outlasts the promise to the waiting customer or the SLA due time;
    `warnings` says so (a client asks its user first with the same check: see the UI)."""
    conversation = access_conversation_by_code(request.auth, code)
    warnings = snooze_warnings(conversation, payload.until)
    actions.do_snooze(request.auth, conversation, payload.until)
    return {**serialize.conversation(conversation), "warnings": [asdict(w) for w in warnings]}


class PriorityIn(BodyIn):
    priority: int = Field(..., ge=0, le=3, description="0 low, 1 normal, 2 high, 3 urgent")


@router.post("/{code}/priority", response={200: ConversationOut, 400: ErrorOut, 404: ErrorOut})
def priority(request: AgentRequest, code: Code, payload: PriorityIn) -> dict[str, Any]:
    conversation = access_conversation_by_code(request.auth, code)
    actions.do_set_priority(request.auth, conversation, payload.priority)
    return serialize.conversation(conversation)
