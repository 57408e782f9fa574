"""Canned replies: an agent's own and the organisation's shared ones, and their text
for a conversation with the placeholders filled."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status

from adesso.api.request import AgentRequest
from adesso.api.schemas import BodyIn, Code, ErrorOut
from adesso.canned import actions
from adesso.canned.access import access_canned_by_code, canned_for, may_change
from adesso.canned.models import CannedReply
from adesso.canned.texts import PLACEHOLDERS
from adesso.conversations.access import access_conversation_by_code

router = Router()


class CannedOut(Schema):
    code: str
    shortcut: str = Field(description="typed after / in the reply box")
    title: str
    language: str = Field(description="it or en")
    body: str = Field(description="with placeholders: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
    shared: bool = Field(description="true: the whole organisation's; false: the agent's own")
    may_change: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class CannedPage(Schema):
    count: int
    items: list[CannedOut]


class CannedFilters(Schema):
    language: Literal["it", "en"] | None = None
    q: str | None = Field(None, max_length=100, description="words in the shortcut, title or body")


class CannedIn(BodyIn):
    shortcut: str = Field(..., min_length=1, max_length=31, description="1-30 lower-case letters, digits, - or _")
    title: str = Field("", max_length=100)
    language: Literal["it", "en"]
    body: str = Field(..., min_length=1, max_length=5000)
    shared: bool = Field(False, description="for the whole organisation (supervisors and admins only)")


class RenderQuery(Schema):
    conversation: str = Field(..., pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the conversation's code")


class RenderedOut(Schema):
    code: str
    shortcut: str
    language: str
    text: str


def _out(user: Any, c: CannedReply) -> dict[str, Any]:
    return {
        "code": c.code,
        "shortcut": c.shortcut,
        "title": c.title,
        "language": c.language,
        "body": c.body,
        "shared": c.shared,
        "may_change": may_change(user, c),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


@router.get("", response={200: CannedPage, 422: ErrorOut})
def list_canned(request: AgentRequest, filters: Query[CannedFilters]) -> dict[str, Any]:
    """The organisation's shared replies and the agent's own."""
    qs = canned_for(request.auth)
    if filters.language:
        qs = qs.filter(language=filters.language)
    items = list(qs)
    if filters.q:
        words = filters.q.lower().split()
        items = [c for c in items if all(w in f"{c.shortcut} {c.title} {c.body}".lower() for w in words)]
    return {"count": len(items), "items": [_out(request.auth, c) for c in items]}


@router.post("", response={201: CannedOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def create_canned(request: AgentRequest, payload: CannedIn) -> Status:
    """A personal reply, or with `shared: true` (supervisors and admins) one for everyone."""
    canned = actions.do_save(request.auth, None, **payload.dict())
    return Status(201, _out(request.auth, canned))


@router.put(
    "/{code}", response={200: CannedOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
)
def update_canned(request: AgentRequest, code: Code, payload: CannedIn) -> dict[str, Any]:
    canned = access_canned_by_code(request.auth, code, for_change=True)
    return _out(request.auth, actions.do_save(request.auth, canned, **payload.dict()))


@router.delete("/{code}", response={204: None, 403: ErrorOut, 404: ErrorOut})
def delete_canned(request: AgentRequest, code: Code) -> Status:
    actions.do_delete(request.auth, access_canned_by_code(request.auth, code, for_change=True))
    return Status(204, None)


@router.get("/{code}/render", response={200: RenderedOut, 404: ErrorOut, 422: ErrorOut})
def render_canned(request: AgentRequest, code: Code, query: Query[RenderQuery]) -> dict[str, Any]:
    """The reply's text for a conversation: {contact_first_name}, {agent_name} and
    {conversation_code} filled in (plain substitution, nothing else is interpreted)."""
    canned = access_canned_by_code(request.auth, code)
    conversation = access_conversation_by_code(request.auth, query.conversation)
    return {
        "code": canned.code,
        "shortcut": canned.shortcut,
        "language": canned.language,
        "text": actions.render_for(request.auth, canned, conversation),
    }
