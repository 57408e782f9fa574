"""The only way views fetch canned replies: an agent sees the organisation's shared
ones and their own; changing a shared one takes a supervisor or an admin."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet
from django.http import Http404

from adesso.accounts.models import User
from adesso.canned.models import CannedReply


def canned_for(user: User) -> QuerySet[CannedReply]:
    """Shared replies first, then the agent's own; by shortcut and language."""
    return (
        CannedReply.objects.filter(organization_id=user.organization_id)
        .filter(Q(owner__isnull=True) | Q(owner=user))
        .order_by(F("owner_id").asc(nulls_first=True), "shortcut", "language", "pk")
    )


def may_change(user: User, canned: CannedReply) -> bool:
    if canned.organization_id != user.organization_id:
        return False
    if canned.owner_id is None:
        return user.is_supervisor
    return canned.owner_id == user.pk


def access_canned_by_code(user: User, code: str, for_change: bool = False) -> CannedReply:
    """404 for a reply the agent cannot see; with `for_change`, 403 if they may not change it."""
    try:
        canned = canned_for(user).get(code=code)
    except CannedReply.DoesNotExist:
        raise Http404("No such canned reply") from None
    if for_change and not may_change(user, canned):
        raise PermissionDenied("Only supervisors and admins change shared replies")
    return canned
