"""Reading the audit log: admins only, one organisation, filtered and newest first."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from adesso.accounts.access import require_admin
from adesso.accounts.models import User
from adesso.audit.models import AuditEntry


def audit_for_admin(admin: User, actor: str = "", action: str = "", obj: str = "") -> QuerySet[AuditEntry]:
    """The admin's organisation's entries. `actor`: an agent's code or (part of) their
    login; `action`: an action name; `obj`: an object's code."""
    require_admin(admin)
    qs = AuditEntry.objects.filter(organization_id=admin.organization_id)
    actor, action, obj = actor.strip(), action.strip(), obj.strip()
    if actor:
        qs = qs.filter(Q(actor__code=actor) | Q(actor_email__icontains=actor))
    if action:
        qs = qs.filter(action=action)
    if obj:
        qs = qs.filter(object_code=obj)
    return qs.select_related("actor").order_by("-created_at", "-pk")
