"""Routing through the API: presence, agents' load and settings, the queue, and the
wording of the automatic messages."""

from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from ninja import Field, Router, Schema
from pydantic import Strict

from adesso.accounts.access import access_agent_by_code, for_role
from adesso.accounts.models import Presence, Role, User
from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import BodyIn, ConversationOut
from adesso.autoreply.actions import do_save_template, template_text
from adesso.autoreply.models import Purpose
from adesso.routing import actions
from adesso.routing.engine import agent_loads, queue

router = Router()


class PresenceIn(BodyIn):
    presence: Annotated[Presence, Strict(False)]


class RoutingAgentOut(Schema):
    code: str
    name: str
    role: str
    presence: str
    capacity: int
    languages: list[str]
    skills: list[str]
    open_conversations: int
    waiting_conversations: int


class RoutingAgentPage(Schema):
    items: list[RoutingAgentOut]


class RoutingIn(BodyIn):
    capacity: int | None = Field(None, ge=0, le=100)
    languages: list[str] | None = Field(None, max_length=20)
    skills: list[str] | None = Field(None, max_length=50)


class QueuePage(Schema):
    count: int
    items: list[ConversationOut]


class TemplateOut(Schema):
    purpose: str
    language: str
    text: str


class TemplateIn(BodyIn):
    text: str = Field(..., max_length=2000, description="Empty restores the built-in wording.")


def routing_agent(user: User, open_count: int = 0, waiting: int = 0) -> dict[str, Any]:
    return {
        "code": user.code, "name": user.display_name, "role": user.role, "presence": user.presence,
        "capacity": user.capacity, "languages": user.speaks, "skills": list(user.skills),
        "open_conversations": open_count, "waiting_conversations": waiting,
    }


@router.put("/me/presence", response=RoutingAgentOut)
def set_presence(request: AgentRequest, body: PresenceIn) -> dict[str, Any]:
    """Online agents receive conversations; offline hands waiting ones back to the queue."""
    agent = actions.do_set_presence(request.auth, body.presence)
    return routing_agent(agent)


@router.get("/routing/agents", response=RoutingAgentPage)
def routing_agents(request: AgentRequest) -> dict[str, Any]:
    """Every active agent with presence, capacity, and how many open conversations
    they have (and how many of those wait for an answer)."""
    org_id = request.auth.organization_id
    loads = agent_loads(org_id)
    users = User.objects.filter(organization_id=org_id, is_active=True).order_by("name", "email")
    return {"items": [routing_agent(u, *loads.get(u.pk, (0, 0))) for u in users]}


@router.patch("/agents/{code}", response=RoutingAgentOut)
@for_role(Role.SUPERVISOR, "Only supervisors and admins can change routing settings")
def update_agent(request: AgentRequest, code: str, body: RoutingIn) -> dict[str, Any]:
    """Supervisors and admins set an agent's capacity, languages and skills."""
    if not request.auth.is_supervisor:
        raise PermissionDenied("Only supervisors and admins can change routing settings")
    agent = access_agent_by_code(request.auth, code)
    agent = actions.do_update_routing(
        request.auth, agent, capacity=body.capacity, languages=body.languages, skills=body.skills
    )
    return routing_agent(agent)


@router.get("/routing/queue", response=QueuePage)
def routing_queue(request: AgentRequest) -> dict[str, Any]:
    """Conversations waiting for a free agent, in the order they will be assigned
    (VIP, then loyal, then by arrival)."""
    qs = queue(request.auth.organization_id).select_related("channel", "contact", "assignee", "team")
    items = list(qs[:200])
    prefetch_related_objects(items, "surveys")  # serialize.survey: no query per row
    return {"count": qs.count(), "items": [serialize.conversation(c) for c in items]}


@router.get("/autoreplies", response=list[TemplateOut])
def autoreplies(request: AgentRequest) -> list[dict[str, Any]]:
    """The automatic messages' wording per purpose and language (the organisation's own,
    or the built-in one)."""
    org_id = request.auth.organization_id
    return [
        {"purpose": p, "language": lang, "text": template_text(org_id, p, lang)}
        for p in Purpose.values for lang in ("it", "en")
    ]


@router.put("/autoreplies/{purpose}/{language}", response=TemplateOut)
@for_role(Role.ADMIN, "Only admins can change the automatic messages")
def save_autoreply(request: AgentRequest, purpose: str, language: str, body: TemplateIn) -> dict[str, Any]:
    """Admins only. Placeholders: {name}, {estimate}, {time}, {queue}, {organization}."""
    if not request.auth.is_admin:
        raise PermissionDenied("Only admins can change the automatic messages")
    do_save_template(request.auth, purpose, language, body.text)
    return {"purpose": purpose, "language": language,
            "text": template_text(request.auth.organization_id, purpose, language)}
