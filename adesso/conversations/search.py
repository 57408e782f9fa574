"""Full-text search over messages and contacts.

On PostgreSQL, messages are matched by Italian and English stems
(`to_tsvector('italian', COALESCE(text, ''))`, the very expression the GIN
indexes of migration 0002 are built on, so the planner can use them): "rimborsi"
finds "rimborso". On SQLite, by substring.
"""

from __future__ import annotations

import operator
import re
from functools import reduce

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

from adesso.accounts.models import User
from adesso.contacts.models import Contact
from adesso.conversations.models import Message
from adesso.lib.addresses import normalize_phone

CONFIGS = ("italian", "english")
# Relevance is computed on the newest matches only: ranking recomputes each
# row's tsvector, which for a common word over millions of rows takes seconds.
RANKED_POOL = 500
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{6,}$")


def search_messages(user: User, q: str, limit: int = 50) -> QuerySet[Message]:
    """The organisation's messages matching `q`, best first (newest first on SQLite)."""
    qs = Message.objects.filter(organization_id=user.organization_id).select_related(
        "conversation", "channel", "author", "conversation__contact"
    )
    if connection.vendor != "postgresql":
        return qs.filter(text__icontains=q).order_by("-created_at", "-pk")[:limit]
    match = Q()
    ranks = []
    candidates = Message.objects.filter(organization_id=user.organization_id)
    for config in CONFIGS:
        query = SearchQuery(q, config=config, search_type="websearch")
        vector = SearchVector("text", config=config)
        candidates = candidates.alias(**{f"v_{config}": vector})
        match |= Q(**{f"v_{config}": query})
        ranks.append(SearchRank(vector, query))
    newest = candidates.filter(match).order_by("-created_at", "-pk").values("pk")[:RANKED_POOL]
    rank = reduce(operator.add, ranks)
    return qs.filter(pk__in=newest).annotate(rank=rank).order_by("-rank", "-created_at", "-pk")[:limit]


def contact_match(q: str) -> Q:
    """Contacts whose name, email or phone contains `q`; a phone matches however it is typed."""
    match = Q(name__icontains=q) | Q(email__icontains=q) | Q(phone__icontains=q)
    if _PHONE_LIKE.match(q):
        phone = normalize_phone(q)
        digits = re.sub(r"\D", "", q)
        if phone:
            match |= Q(phone=phone)
        if len(digits) >= 6:
            match |= Q(phone__contains=digits)
    return match


def search_contacts(user: User, q: str, limit: int = 20) -> QuerySet[Contact]:
    """Live contacts of the organisation by name, email, phone or any identity."""
    return (
        Contact.objects.filter(organization_id=user.organization_id, merged_into__isnull=True)
        .filter(contact_match(q) | Q(identities__value__icontains=q))
        .distinct()
        .order_by("-updated_at", "-pk")[:limit]
    )
