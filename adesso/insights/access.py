"""Who may see and change the insights: supervisors and admins of the organisation."""

from __future__ import annotations

from django.http import Http404

from adesso.accounts.access import require_role
from adesso.accounts.models import Role, User
from adesso.insights.models import Topic


def access_topic_by_code(user: User, code: str) -> Topic:
    """The organisation's topic (404 for another organisation's or none), for a supervisor."""
    require_role(user, Role.SUPERVISOR, "Only supervisors and admins work on topics")
    topic = Topic.objects.filter(organization_id=user.organization_id, code=code).first()
    if topic is None:
        raise Http404("No such topic")
    return topic
