"""The silence guard: conversations whose customer still has no human answer."""

from typing import Any

from django.db.models import prefetch_related_objects
from ninja import Field, Query, Router, Schema

from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import ConversationPage
from adesso.conversations import queries

router = Router()


class Paging(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000_000)


@router.get("", response=ConversationPage)
def silence(request: AgentRequest, paging: Query[Paging]) -> dict[str, Any]:
    """Every conversation whose customer's last message has no human answer yet,
    in any status, longest silence first (`waiting_seconds` says how long).
    Automatic acknowledgements and internal notes are not answers."""
    qs = queries.silent(request.auth)
    items = list(qs[paging.offset : paging.offset + paging.limit])
    prefetch_related_objects(items, "surveys")  # serialize.survey: no query per row
    return {"count": qs.count(), "limit": paging.limit, "offset": paging.offset,
            "items": [serialize.conversation(c) for c in items]}
