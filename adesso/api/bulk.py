"""One action on many conversations: assign, tag, untag, resolve, snooze."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Router, Schema
from pydantic import StringConstraints, field_validator

from adesso.accounts.access import access_agent_by_code, access_team_by_code
from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import BodyIn, ConversationOut, ErrorOut, When
from adesso.conversations.bulk import ACTIONS, MAX_CODES, BulkChange, do_bulk

router = Router()

CodeItem = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class BulkIn(BodyIn):
    codes: list[CodeItem] = Field(..., min_length=1, max_length=MAX_CODES, description="the conversations' codes")
    action: Literal["assign", "tag", "untag", "resolve", "snooze"] = Field(..., description=", ".join(ACTIONS))
    assignee: str | None = Field(None, max_length=64, description="assign: an agent's code, or null to unassign")
    team: str | None = Field(None, max_length=64, description="assign: a team's code")
    note: str = Field("", max_length=5000, description="assign: the handover note, needed to transfer")
    tag: str = Field("", max_length=40, description="tag, untag: the tag's name")
    reason: str = Field(
        "", max_length=2000, description="resolve: why those still waiting for an answer need none (one for all)"
    )
    until: When | None = Field(None, description="snooze: ISO 8601 with a time zone")

    @field_validator("until")
    @classmethod
    def _storable(cls, value: dt.datetime | None) -> dt.datetime | None:
        # Databases store UTC: a time that has none (year 9999 at -14:00) cannot be stored.
        if value is not None and value.tzinfo is not None:
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                raise ValueError("the time is out of range") from None
        return value


class BulkResultOut(Schema):
    code: str
    ok: bool
    error: str | None = Field(None, description="why this one was not changed, e.g. unanswered, note_required")
    message: str | None = None
    conversation: ConversationOut | None = Field(None, description="as it is now, when it exists")


class BulkOut(Schema):
    done: int
    failed: int
    results: list[BulkResultOut]


@router.post("/conversations/bulk", response={200: BulkOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def bulk(request: AgentRequest, payload: BulkIn) -> dict[str, Any]:
    """Apply one action to each conversation, each on its own: one result per code, in
    order. Resolving conversations whose customer still waits for an answer needs
    `reason` (one for all); without it those answer `unanswered` and the others are
    resolved."""
    user = request.auth
    change = BulkChange(
        action=payload.action,
        assignee=access_agent_by_code(user, payload.assignee) if payload.assignee else None,
        team=access_team_by_code(user, payload.team) if payload.team else None,
        note=payload.note,
        tag=payload.tag,
        reason=payload.reason,
        until=payload.until,
    )
    results = do_bulk(user, payload.codes, change)
    return {
        "done": sum(r.ok for r in results),
        "failed": sum(not r.ok for r in results),
        "results": [
            {
                "code": r.code,
                "ok": r.ok,
                "error": r.error or None,
                "message": r.message or None,
                "conversation": serialize.conversation(r.conversation) if r.conversation is not None else None,
            }
            for r in results
        ],
    }
