"""The audit log (admins): who viewed, exported, erased or changed what."""

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema

from adesso.accounts.access import admin_only
from adesso.api.request import AgentRequest
from adesso.api.schemas import MAX_OFFSET, ErrorOut
from adesso.audit.models import AuditAction
from adesso.audit.queries import audit_for_admin

router = Router()


class AuditFilters(Schema):
    actor: str = Field("", max_length=254, description="an agent's code, or part of their login email")
    action: AuditAction | None = Field(None, description="one action, e.g. contact_erased or role_changed")
    object: str = Field("", max_length=64, description="the code of the object acted on (a contact, agent, channel)")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class AuditEntryOut(Schema):
    id: int
    action: str
    actor: str | None = Field(..., description="the agent's code; null for the system (retention)")
    actor_email: str
    object_kind: str = Field(..., description="contact, agent, invitation, channel or organization")
    object_code: str
    data: dict[str, Any]
    ip: str | None
    created_at: dt.datetime


class AuditPage(Schema):
    count: int
    items: list[AuditEntryOut]


@router.get("", response={200: AuditPage, 403: ErrorOut})
@admin_only
def audit_log(request: AgentRequest, filters: Query[AuditFilters]) -> dict[str, Any]:
    """Newest first, filtered by actor, action and object; admins only (403 for others)."""
    qs = audit_for_admin(
        request.auth,
        actor=filters.actor,
        action=filters.action or "",
        obj=filters.object,
    )
    rows = qs[filters.offset : filters.offset + filters.limit]
    items = [
        {
            "id": e.pk,
            "action": e.action,
            "actor": e.actor.code if e.actor else None,
            "actor_email": e.actor_email,
            "object_kind": e.object_kind,
            "object_code": e.object_code,
            "data": e.data,
            "ip": e.ip,
            "created_at": e.created_at,
        }
        for e in rows
    ]
    return {"count": qs.count(), "items": items}
