"""Who gets a conversation: pure choice over the online agents, and the queue order.

Order (issue 3): the agent who last helped this contact, if online and under
capacity (sticky); else an agent with the conversation's skill and, when one
is free, its language; the least loaded first, then the one who waited longest
for work. Nobody free: the conversation waits in the queue, VIP and loyal
contacts first, then by arrival.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from adesso.accounts.models import Presence, TeamMembership, User
from adesso.contacts.models import Tier
from adesso.conversations.models import Conversation, Status

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Queue order: lower first.
TIER_RANK = Case(
    When(contact__tier=Tier.VIP, then=Value(0)),
    When(contact__tier=Tier.LOYAL, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@dataclass
class Candidate:
    agent_id: int
    code: str
    capacity: int
    load: int
    languages: list[str]
    skills: list[str]
    last_assigned_at: dt.datetime
    teams: set[int]

    @property
    def free(self) -> bool:
        return self.load < self.capacity


# Hand-written SQL: read for every message routed, and the ORM takes longer to
# compile the subquery than the database to answer it (docs/performance.md).
_CANDIDATES_SQL = (
    "SELECT u.*, (SELECT COUNT(*) FROM conversations_conversation c WHERE c.organization_id = %s"
    " AND c.assignee_id = u.id AND c.status = %s) AS open_load"
    " FROM accounts_user u WHERE u.organization_id = %s AND u.is_active = %s AND u.presence = %s"
)
_LAST_AGENT_SQL = (
    "SELECT assignee_id FROM conversations_conversation WHERE contact_id = %s AND assignee_id IS NOT NULL"
    " AND id <> %s ORDER BY updated_at DESC LIMIT 1"
)


def candidates(organization_id: int, with_teams: bool = True) -> list[Candidate]:
    """The organisation's online agents with their open conversations (and, when asked,
    their teams: only conversations of a team need them). In a batch of the inbound
    pipeline, read once with teams and shared by its messages: each choice adds to the
    chosen agent's load in it, as within one message (adesso.lib.batch)."""
    from adesso.lib import batch

    if batch.active():
        return batch.memo(("routing.candidates", organization_id), lambda: _candidates(organization_id, True))
    return _candidates(organization_id, with_teams)


def _candidates(organization_id: int, with_teams: bool) -> list[Candidate]:
    agents = list(User.objects.raw(
        _CANDIDATES_SQL, [organization_id, Status.OPEN, organization_id, True, Presence.ONLINE]
    ))
    teams: dict[int, set[int]] = {a.pk: set() for a in agents}
    if agents and with_teams:
        for user_id, team_id in TeamMembership.objects.filter(user_id__in=teams).values_list("user_id", "team_id"):
            teams[user_id].add(team_id)
    return [
        Candidate(
            agent_id=a.pk, code=a.code, capacity=a.capacity, load=a.open_load,  # type: ignore[attr-defined]
            languages=a.speaks, skills=list(a.skills or []),
            last_assigned_at=a.last_assigned_at or EPOCH, teams=teams[a.pk],
        )
        for a in agents
    ]


def agent_loads(organization_id: int) -> dict[int, tuple[int, int]]:
    """Per agent id: (open conversations, of which waiting for an answer). One grouped query."""
    rows = (
        Conversation.objects.filter(organization_id=organization_id, status=Status.OPEN, assignee__isnull=False)
        .values("assignee_id")
        .annotate(open=Count("pk"), waiting=Count("pk", filter=Q(waiting_since__isnull=False)))
        .order_by()
    )
    return {r["assignee_id"]: (r["open"], r["waiting"]) for r in rows}


def last_agent_id(conversation: Conversation) -> int | None:
    """The agent who last helped this contact, on any channel (one person per customer)."""
    if conversation.assignee_id is not None:
        return conversation.assignee_id
    with connection.cursor() as cursor:
        cursor.execute(_LAST_AGENT_SQL, [conversation.contact_id, conversation.pk or -1])
        row = cursor.fetchone()
    return row[0] if row else None


def choose(conversation: Conversation, pool: list[Candidate], sticky_id: int | None) -> tuple[Candidate, str] | None:
    """The agent for this conversation from `pool`, and why; None when nobody fits now."""
    able = [c for c in pool if c.free]
    if conversation.team_id is not None:
        able = [c for c in able if conversation.team_id in c.teams]
    if conversation.skill:
        able = [c for c in able if conversation.skill in c.skills]
    if not able:
        return None
    if sticky_id is not None:
        for c in able:
            if c.agent_id == sticky_id:
                return c, "sticky"
    speaking = [c for c in able if conversation.language in c.languages] if conversation.language else []
    best = min(speaking or able, key=lambda c: (c.load, c.last_assigned_at, c.agent_id))
    return best, ("language" if speaking else "available")


def queue(organization_id: int) -> QuerySet[Conversation]:
    """The conversations waiting for a free agent, in the order they will be assigned."""
    return (
        Conversation.objects.filter(organization_id=organization_id, queued_at__isnull=False, status=Status.OPEN)
        .annotate(tier_rank=TIER_RANK)
        .order_by("tier_rank", "queued_at", "pk")
    )


def queue_position(conversation: Conversation) -> int:
    """1 for the head of the queue; 0 when the conversation is not queued."""
    if conversation.queued_at is None:
        return 0
    rank = {Tier.VIP.value: 0, Tier.LOYAL.value: 1}.get(str(conversation.contact.tier), 2)
    ahead = queue(conversation.organization_id).filter(
        Q(tier_rank__lt=rank) | Q(tier_rank=rank, queued_at__lt=conversation.queued_at)
        | Q(tier_rank=rank, queued_at=conversation.queued_at, pk__lt=conversation.pk)
    ).count()
    return ahead + 1
