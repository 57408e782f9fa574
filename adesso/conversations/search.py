"""Full-text search over messages and contacts.

On PostgreSQL, messages are matched by Italian and English stems
(`to_tsvector('italian', text)`, GIN-indexed by migration), so "rimborsi"
finds "rimborso". On SQLite, by substring.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

from adesso.accounts.models import User
from adesso.contacts.models import Contact
from adesso.conversations.models import Message

CONFIGS = ("italian", "english")


def search_messages(user: User, q: str, limit: int = 50) -> QuerySet[Message]:
    qs = Message.objects.filter(organization_id=user.organization_id).select_related(
        "conversation", "channel", "author", "conversation__contact"
    )
    if connection.vendor == "postgresql":
        match = Q()
        rank = None
        for config in CONFIGS:
            query = SearchQuery(q, config=config, search_type="websearch")
            vector = SearchVector("text", config=config)
            qs = qs.annotate(**{f"v_{config}": vector})
            match |= Q(**{f"v_{config}": query})
            r = SearchRank(vector, query)
            rank = r if rank is None else rank + r
        return qs.filter(match).annotate(rank=rank).order_by("-rank", "-created_at")[:limit]
    return qs.filter(text__icontains=q).order_by("-created_at")[:limit]


def search_contacts(user: User, q: str, limit: int = 20) -> QuerySet[Contact]:
    return (
        Contact.objects.filter(organization_id=user.organization_id, merged_into__isnull=True)
        .filter(
            Q(name__icontains=q) | Q(email__icontains=q) | Q(phone__icontains=q)
            | Q(identities__value__icontains=q)
        )
        .distinct()
        .order_by("-updated_at")[:limit]
    )
