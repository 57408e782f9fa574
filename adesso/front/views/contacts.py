"""Contacts: the list with search, one contact's page, editing, merging and undoing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from adesso.contacts.actions import (
    CONTACT_EDITABLE,
    do_merge_contacts,
    do_undo_merge,
    do_update_contact,
    merge_suggestions,
)
from adesso.contacts.models import Contact, ContactMerge, IdentityKind, Tier
from adesso.contacts.queries import identity_views
from adesso.conversations.access import (
    access_contact_by_code,
    access_merge_by_id,
    contacts_for,
)
from adesso.conversations.queries import contact_history
from adesso.front.timeline import earlier_entries
from adesso.front.views.common import AgentRequest
from adesso.lib.addresses import normalize_email
from adesso.lib.errors import ActionError

PAGE_SIZE = 25


@login_required
def contact_list(request: AgentRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    qs = contacts_for(request.user).filter(merged_into__isnull=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(email__icontains=q) | Q(phone__icontains=q))
    qs = qs.annotate(conversation_count=Count("conversations")).order_by("-updated_at", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"q": q, "page": page, "contacts": list(page.object_list), "nav": "contacts"}
    return render(request, "front/contacts.html", context)


def _page(
    request: AgentRequest, contact: Contact, errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> HttpResponse:
    merged = contact.merged_into_id is not None
    merges = (
        ContactMerge.objects.filter(organization_id=contact.organization_id)
        .filter(Q(source=contact) | Q(target=contact))
        .select_related("source", "target", "actor", "undone_by")
        .order_by("-created_at", "-pk")
    )
    context: dict[str, Any] = {
        "contact": contact,
        "merged_into": contact.merged_into if merged else None,
        "identities": identity_views(list(contact.identities.order_by("kind", "value")), contact.organization_id),
        "conversations": list(
            contact.conversations.select_related("channel", "assignee").order_by("-updated_at")[:50]
        ),
        "suggestions": [] if merged else merge_suggestions(contact),
        "merges": list(merges),
        "history": earlier_entries(contact_history(contact, limit=50)),
        "tiers": Tier.choices,
        "languages": settings.LANGUAGES,
        "errors": errors or {},
        "values": values or {},
        "nav": "contacts",
    }
    return render(request, "front/contact.html", context, status=status)


def _back(contact: Contact) -> HttpResponse:
    return HttpResponseRedirect(reverse("front:contact", args=[contact.code]))


@login_required
def contact(request: AgentRequest, code: str) -> HttpResponse:
    return _page(request, access_contact_by_code(request.user, code))


@login_required
@require_POST
def edit(request: AgentRequest, code: str) -> HttpResponse:
    contact = access_contact_by_code(request.user, code)
    changes = {f: request.POST[f].strip() for f in CONTACT_EDITABLE if f in request.POST}
    try:
        if contact.merged_into_id is not None:
            raise ActionError(_("This contact was merged: edit the contact it was merged into."))
        do_update_contact(request.user, contact, **changes)
    except ActionError as e:
        contact.refresh_from_db()
        return _page(request, contact, {"edit": e.message}, changes, status=400)
    messages.success(request, _("Contact saved."))
    return _back(contact)


def _find_other(request: AgentRequest, value: str) -> Contact:
    """The contact an agent means by a code or an email address, in their organisation."""
    try:
        return access_contact_by_code(request.user, value)
    except Http404:
        pass
    email = normalize_email(value)
    found = (
        contacts_for(request.user).filter(
            Q(email=email) | Q(identities__kind=IdentityKind.EMAIL, identities__value=email),
            merged_into__isnull=True,
        ).first()
        if email
        else None
    )
    if found is None:
        raise ActionError(_("No contact has that code or email address."), "not_found")
    return found


def _merge_side(contact: Contact) -> dict[str, Any]:
    """What the confirmation shows of one contact: name, addresses, conversations."""
    identities = list(contact.identities.order_by("kind", "value"))
    return {
        "contact": contact,
        "identities": identity_views(identities, contact.organization_id),
        "conversation_count": contact.conversations.count(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def merge(request: AgentRequest, code: str) -> HttpResponse:
    """Merge another contact (picked by code or email) into this one. GET shows both
    contacts and asks for confirmation; only the POST of that page merges."""
    target = access_contact_by_code(request.user, code)
    data = request.POST if request.method == "POST" else request.GET
    value = data.get("other", "").strip()[:254]
    try:
        source = _find_other(request, value)
        if request.method == "GET":
            if source.pk == target.pk:
                raise ActionError(_("A contact cannot be merged into itself."), "same_contact")
            if source.merged_into_id or target.merged_into_id:
                raise ActionError(_("One of these contacts is already merged."), "already_merged")
            return render(request, "front/contact_merge.html", {
                "source": _merge_side(source), "target": _merge_side(target), "nav": "contacts",
            })
        do_merge_contacts(request.user, source, target)
    except ActionError as e:
        return _page(request, target, {"merge": e.message}, {"other": value}, status=400)
    messages.success(
        request, _("%(source)s was merged into this contact.") % {"source": source.display_name}
    )
    return _back(target)


@login_required
@require_POST
def undo_merge(request: AgentRequest, merge_id: int) -> HttpResponse:
    merge = access_merge_by_id(request.user, merge_id)
    try:
        source = do_undo_merge(request.user, merge)
    except ActionError as e:
        messages.error(request, e.message)
        return _back(merge.target)
    messages.success(
        request, _("Merge undone: %(source)s is a separate contact again.")
        % {"source": source.display_name},
    )
    return _back(merge.target)
