"""Privacy pages: a contact's export and erasure, consent, the privacy page, the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from adesso.accounts.access import admin_only, require_admin, supervisor_only
from adesso.audit import events as audit
from adesso.audit.models import AuditAction
from adesso.audit.queries import audit_for_admin
from adesso.conversations.access import access_contact_by_code
from adesso.front.views.common import AgentRequest
from adesso.lib.errors import ActionError
from adesso.privacy.access import access_contact_for_erasure, access_contact_for_export
from adesso.privacy.actions import do_save_privacy_settings, do_set_consent
from adesso.privacy.catalogue import categories
from adesso.privacy.erase import do_erase_contact
from adesso.privacy.export import export_filename, export_summary, stream_export
from adesso.privacy.models import TwoFactorPolicy, privacy_of
from adesso.privacy.redact import KINDS, PLACEHOLDERS

AUDIT_PAGE = 50


def _back(code: str) -> HttpResponse:
    return HttpResponseRedirect(reverse("front:contact", args=[code]))


@login_required
@supervisor_only
def export_page(request: AgentRequest, code: str) -> HttpResponse:
    """What the export holds, with the download buttons. Opening it is recorded."""
    contact = access_contact_for_export(request.user, code)
    audit.export_viewed(actor=request.user, contact=contact)
    settings = privacy_of(contact.organization_id)
    return render(
        request,
        "privacy/export.html",
        {
            "contact": contact,
            "summary": export_summary(contact),
            "redact_kinds": settings.redact_kinds,
            "nav": "contacts",
        },
    )


@login_required
@supervisor_only
def export_download(request: AgentRequest, code: str) -> StreamingHttpResponse:
    contact = access_contact_for_export(request.user, code)
    redacted = request.GET.get("redacted") == "1"
    audit.contact_exported(actor=request.user, contact=contact, redacted=redacted, via="web")
    response = StreamingHttpResponse(stream_export(contact, redacted=redacted), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(contact)}"'
    return response


@login_required
@admin_only
@require_http_methods(["GET", "POST"])
def erase(request: AgentRequest, code: str) -> HttpResponse:
    """GET asks to confirm (typing the contact's code); only that POST erases."""
    contact = access_contact_for_erasure(request.user, code)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != contact.code:
            error = _("Type the contact's code to confirm.")
        else:
            try:
                do_erase_contact(request.user, contact)
            except ActionError as e:
                error = e.message
            else:
                messages.success(request, _("The contact's personal data was erased."))
                return _back(contact.code)
    return render(
        request,
        "privacy/erase.html",
        {
            "contact": contact,
            "summary": export_summary(contact),
            "error": error,
            "nav": "contacts",
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def consent(request: AgentRequest, code: str) -> HttpResponse:
    contact = access_contact_by_code(request.user, code)
    try:
        do_set_consent(
            request.user,
            contact,
            request.POST.get("consent", ""),
            request.POST.get("consent_source", ""),
            request.POST.get("processing_notes"),
        )
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Consent saved."))
    return _back(contact.code)


@login_required
@admin_only
@require_http_methods(["GET", "POST"])
def privacy_page(request: AgentRequest) -> HttpResponse:
    """For admins: what Adesso stores and why, and the organisation's privacy settings."""
    require_admin(request.user)
    error = ""
    if request.method == "POST":
        try:
            do_save_privacy_settings(
                request.user,
                resolved_conversation_months=request.POST.get("resolved_conversation_months", ""),
                inbound_event_days=request.POST.get("inbound_event_days", ""),
                audit_days=request.POST.get("audit_days", ""),
                redact_kinds=request.POST.getlist("redact_kinds"),
                two_factor=request.POST.get("two_factor", TwoFactorPolicy.OPTIONAL),
            )
        except ActionError as e:
            error = e.message
        else:
            messages.success(request, _("Privacy settings saved."))
            return HttpResponseRedirect(reverse("front:privacy"))
    settings = privacy_of(request.user.organization_id)
    context: dict[str, Any] = {
        "settings": settings,
        "categories": categories(),
        "error": error,
        "nav": "privacy",
        "kinds": [(k, PLACEHOLDERS[k]) for k in KINDS],
        "policies": TwoFactorPolicy.choices,
        "values": request.POST if error else None,
    }
    return render(request, "privacy/privacy.html", context, status=400 if error else 200)


@login_required
@admin_only
def audit_page(request: AgentRequest) -> HttpResponse:
    filters = {k: request.GET.get(k, "").strip()[:254] for k in ("actor", "action", "object")}
    if filters["action"] not in AuditAction.values:
        filters["action"] = ""
    qs = audit_for_admin(request.user, actor=filters["actor"], action=filters["action"], obj=filters["object"])
    page = Paginator(qs, AUDIT_PAGE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "privacy/audit.html",
        {
            "page": page,
            "entries": list(page.object_list),
            "filters": filters,
            "actions": AuditAction.choices,
            "query": query,
            "nav": "privacy",
        },
    )
