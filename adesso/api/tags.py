"""Tags on conversations: the organisation's tags, add one to a conversation, take one off."""

from __future__ import annotations

from typing import Any

from ninja import Field, Router, Schema

from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import BodyIn, Code, ConversationOut, ErrorOut
from adesso.conversations.access import access_conversation_by_code
from adesso.conversations.tagging import MAX_TAG_CHARS, do_tag, do_untag, tags_for

router = Router()


class TagIn(BodyIn):
    tag: str = Field(
        ..., min_length=1, max_length=MAX_TAG_CHARS, description="the tag's name (stored in lower case; created if new)"
    )


class TagOut(Schema):
    name: str


@router.get("/tags", response={200: list[TagOut]})
def list_tags(request: AgentRequest) -> list[dict[str, Any]]:
    """The organisation's tags, by name."""
    return [{"name": name} for name in tags_for(request.auth).values_list("name", flat=True)]


@router.post("/conversations/{code}/tags", response={200: ConversationOut, 400: ErrorOut, 404: ErrorOut})
def add_tag(request: AgentRequest, code: Code, payload: TagIn) -> dict[str, Any]:
    """Put a tag on the conversation; already there: nothing changes."""
    conversation = access_conversation_by_code(request.auth, code)
    do_tag(request.auth, conversation, payload.tag)
    return serialize.conversation(conversation)


@router.delete("/conversations/{code}/tags", response={200: ConversationOut, 400: ErrorOut, 404: ErrorOut})
def remove_tag(request: AgentRequest, code: Code, payload: TagIn) -> dict[str, Any]:
    """Take a tag off the conversation (body `{"tag": name}`); not there: nothing changes."""
    conversation = access_conversation_by_code(request.auth, code)
    do_untag(request.auth, conversation, payload.tag)
    return serialize.conversation(conversation)
