"""Contacts: list, read, update, merge and undo a merge."""

from typing import Any

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema

from adesso.api import serialize
from adesso.api.request import AgentRequest
from adesso.api.schemas import (
    MAX_OFFSET,
    BodyIn,
    Code,
    ContactMergeOut,
    ContactOut,
    ContactSummary,
    ConversationOut,
    ErrorOut,
)
from adesso.contacts import actions
from adesso.contacts.models import Contact, ContactIdentity
from adesso.conversations.access import access_contact_by_code, access_merge_by_id, contacts_for
from adesso.conversations.models import Conversation
from adesso.conversations.search import contact_match

router = Router()


def _with_identities(qs: Any) -> Any:
    return qs.select_related("merged_into").prefetch_related(
        Prefetch("identities", queryset=ContactIdentity.objects.order_by("kind", "value"))
    )


class ContactFilters(Schema):
    q: str = Field("", max_length=200, description="part of a name, email or phone")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class ContactPage(Schema):
    count: int
    items: list[ContactOut]


@router.get("", response=ContactPage)
def list_contacts(request: AgentRequest, filters: Query[ContactFilters]) -> dict[str, Any]:
    qs = contacts_for(request.auth).filter(merged_into__isnull=True)
    q = filters.q.strip()
    if q:
        qs = qs.filter(contact_match(q))
    qs = qs.order_by("-updated_at", "pk")
    items = list(_with_identities(qs)[filters.offset : filters.offset + filters.limit])
    return {"count": qs.count(), "items": [serialize.contact(c) for c in items]}


class ContactDetail(ContactOut):
    conversations: list[ConversationOut]
    merge_suggestions: list[ContactSummary]
    merges: list[ContactMergeOut]


def _contact_detail(contact: Contact) -> dict[str, Any]:
    conversations = (
        Conversation.objects.filter(contact=contact)
        .select_related("channel", "contact", "assignee", "team")
        .prefetch_related("surveys")
        .order_by("-updated_at")[:100]
    )
    merges = contact.merges_as_target.select_related("source").order_by("-created_at")
    return {
        **serialize.contact(contact),
        "conversations": [serialize.conversation(c) for c in conversations],
        "merge_suggestions": [serialize.contact_summary(c) for c in actions.merge_suggestions(contact)],
        "merges": [
            {"id": m.pk, "source": m.source.code, "created_at": m.created_at, "undone_at": m.undone_at} for m in merges
        ],
    }


@router.get("/{code}", response={200: ContactDetail, 404: ErrorOut})
def get_contact(request: AgentRequest, code: Code) -> dict[str, Any]:
    contact = access_contact_by_code(request.auth, code)
    return _contact_detail(_with_identities(Contact.objects.filter(pk=contact.pk)).get())


class ContactUpdate(BodyIn):
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    language: str | None = Field(None, max_length=8)
    tier: str | None = Field(None, description="standard, loyal or vip")
    notes: str | None = Field(None, max_length=10_000)


@router.patch("/{code}", response={200: ContactDetail, 400: ErrorOut, 404: ErrorOut})
def update_contact(request: AgentRequest, code: Code, payload: ContactUpdate) -> dict[str, Any]:
    contact = access_contact_by_code(request.auth, code)
    actions.do_update_contact(request.auth, contact, **payload.dict(exclude_unset=True))
    return _contact_detail(_with_identities(Contact.objects.filter(pk=contact.pk)).get())


class MergeIn(BodyIn):
    into: str = Field(..., max_length=64, description="code of the contact that remains")


class MergeOut(Schema):
    merge: int
    contact: ContactDetail


@router.post("/{code}/merge", response={200: MergeOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut})
def merge(request: AgentRequest, code: Code, payload: MergeIn) -> dict[str, Any]:
    """Merge this contact into `into`: identities and conversations move; undo restores them."""
    source = access_contact_by_code(request.auth, code)
    target = access_contact_by_code(request.auth, payload.into)
    done = actions.do_merge_contacts(request.auth, source, target)
    contact = _with_identities(Contact.objects.filter(pk=target.pk)).get()
    return {"merge": done.pk, "contact": _contact_detail(contact)}


@router.post("/merges/{merge_id}/undo", response={200: ContactDetail, 404: ErrorOut, 409: ErrorOut})
def undo_merge(request: AgentRequest, merge_id: int) -> dict[str, Any]:
    done = access_merge_by_id(request.auth, merge_id)
    source = actions.do_undo_merge(request.auth, done)
    return _contact_detail(_with_identities(Contact.objects.filter(pk=source.pk)).get())
