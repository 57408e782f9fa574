"""An agent's notifications: conversations given to them, SLA warnings and breaches."""

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema

from adesso.api.request import AgentRequest
from adesso.api.schemas import BodyIn
from adesso.notifications.actions import do_mark_read
from adesso.notifications.models import Notification

router = Router()


class NotificationOut(Schema):
    id: int
    kind: str = Field(..., description="assigned, transferred, sla_warning or sla_breached")
    conversation: str
    data: dict[str, Any]
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    unread: int
    items: list[NotificationOut]


class NotificationQuery(Schema):
    unread: bool = False
    limit: int = Field(50, ge=1, le=200)


class ReadIn(BodyIn):
    id: int | None = Field(None, description="One notification; omitted: all of them.")


class ReadOut(Schema):
    marked: int


@router.get("", response=NotificationPage)
def notifications(request: AgentRequest, params: Query[NotificationQuery]) -> dict[str, Any]:
    """The caller's own notifications, newest first."""
    qs = Notification.objects.filter(user=request.auth).select_related("conversation").order_by("-created_at")
    if params.unread:
        qs = qs.filter(read_at__isnull=True)
    items = [
        {"id": n.pk, "kind": n.kind, "conversation": n.conversation.code, "data": n.data,
         "created_at": n.created_at, "read_at": n.read_at}
        for n in qs[: params.limit]
    ]
    unread = Notification.objects.filter(user=request.auth, read_at__isnull=True).count()
    return {"unread": unread, "items": items}


@router.post("/read", response=ReadOut)
def read(request: AgentRequest, body: ReadIn) -> dict[str, int]:
    return {"marked": do_mark_read(request.auth, body.id)}
