"""Search, and who's who: the agent, agents and teams of the organisation."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from adesso.accounts.models import Team, User
from adesso.api import serialize
from adesso.api.schemas import AgentOut, ContactSummary, ErrorOut, MessageOut, TeamOut
from adesso.conversations.search import search_contacts, search_messages

router = Router()


class SearchIn(Schema):
    q: str = Field(..., min_length=1, max_length=200)


class SearchOut(Schema):
    messages: list[MessageOut]
    contacts: list[ContactSummary]


@router.get("/search", response={200: SearchOut, 422: ErrorOut})
def search(request: HttpRequest, params: Query[SearchIn]) -> dict[str, Any]:
    """Messages (by stem on PostgreSQL, Italian and English) and contacts."""
    q = params.q.strip()
    messages = search_messages(request.auth, q).prefetch_related("attachments")
    return {
        "messages": [serialize.message(m, m.conversation.code, m.channel) for m in messages],
        "contacts": [serialize.contact_summary(c) for c in search_contacts(request.auth, q)],
    }


@router.get("/me", response=AgentOut)
def me(request: HttpRequest) -> dict[str, Any] | None:
    return serialize.agent(request.auth)


@router.get("/agents", response=list[AgentOut])
def agents(request: HttpRequest) -> list[dict[str, Any] | None]:
    users = User.objects.filter(organization_id=request.auth.organization_id, is_active=True)
    return [serialize.agent(u) for u in users.order_by("name", "email")]


@router.get("/teams", response=list[TeamOut])
def teams(request: HttpRequest) -> list[dict[str, Any] | None]:
    return [serialize.team(t) for t in Team.objects.filter(organization_id=request.auth.organization_id).order_by("name")]
