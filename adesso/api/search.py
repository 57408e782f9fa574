"""Search, and who's who: the agent, agents and teams of the organisation."""

from typing import Any

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from adesso.accounts.models import User
from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import NOT_BLANK, AgentOut, ContactSummary, ErrorOut, MessageOut
from adesso.conversations.models import Attachment
from adesso.conversations.search import search_contacts, search_messages

router = Router()


class SearchIn(Schema):
    q: str = Field(..., min_length=1, max_length=200, pattern=NOT_BLANK)

    @field_validator("q")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the search is empty")
        return value.strip()


class SearchOut(Schema):
    messages: list[MessageOut]
    contacts: list[ContactSummary]


@router.get("/search", response={200: SearchOut, 422: ErrorOut})
def search(request: AgentRequest, params: Query[SearchIn]) -> dict[str, Any]:
    """Messages (by stem on PostgreSQL, Italian and English) and contacts."""
    q = params.q
    messages = search_messages(request.auth, q).prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )
    return {
        "messages": [serialize.message(m, m.conversation.code, m.channel) for m in messages],
        "contacts": [serialize.contact_summary(c) for c in search_contacts(request.auth, q)],
    }


@router.get("/me", response=AgentOut)
def me(request: AgentRequest) -> dict[str, Any] | None:
    return serialize.agent(request.auth)


@router.get("/agents", response=list[AgentOut])
def agents(request: AgentRequest) -> list[dict[str, Any] | None]:
    users = User.objects.filter(organization_id=request.auth.organization_id, is_active=True)
    return [serialize.agent(u) for u in users.order_by("name", "email")]

# GET /teams lives with the other team endpoints in adesso/api/agents.py.
