"""Canned replies: the page to keep them (/settings/canned), and the list the reply
box shows when the agent types `/`, each already filled in for the conversation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from adesso.accounts.models import User
from adesso.canned import actions
from adesso.canned.access import access_canned_by_code, canned_for, may_change
from adesso.canned.models import CannedReply, Language
from adesso.canned.texts import PLACEHOLDERS
from adesso.conversations.access import access_conversation_by_code
from adesso.front.views.common import AgentRequest
from adesso.lib.errors import ActionError


def _save(request: AgentRequest) -> tuple[CannedReply | None, str]:
    """Apply the posted form; returns the reply being edited (None: a new one) and the error."""
    post = request.POST
    code = post.get("code", "")
    canned = access_canned_by_code(request.user, code, for_change=True) if code else None
    if post.get("delete") and canned is not None:
        actions.do_delete(request.user, canned)
        messages.success(request, _("Canned reply deleted."))
        return None, ""
    try:
        actions.do_save(
            request.user,
            canned,
            shortcut=post.get("shortcut", "")[:100],
            title=post.get("title", "")[:200],
            language=post.get("language", ""),
            body=post.get("body", "")[:6000],
            shared=post.get("shared") == "1" and request.user.is_supervisor,
        )
    except ActionError as e:
        return canned, e.message
    messages.success(request, _("Canned reply saved."))
    return None, ""


def _values(user: User, c: CannedReply | None) -> dict[str, str]:
    if c is None:
        return {"shortcut": "", "title": "", "language": user.language, "body": "", "shared": ""}
    return {
        "shortcut": c.shortcut,
        "title": c.title,
        "language": c.language,
        "body": c.body,
        "shared": "1" if c.shared else "",
    }


@login_required
def canned_settings(request: AgentRequest) -> HttpResponse:
    user = request.user
    error, failed, values = "", "", {}
    if request.method == "POST":
        canned, error = _save(request)
        if not error:
            return HttpResponseRedirect(reverse("front:canned"))
        failed = canned.code if canned is not None else "new"
        values = {k: request.POST.get(k, "") for k in ("shortcut", "title", "language", "body", "shared")}
    items = [
        {"reply": c, "may_change": may_change(user, c), "values": values if failed == c.code else _values(user, c)}
        for c in canned_for(user)
    ]
    return render(
        request,
        "front/canned_settings.html",
        {
            "items": items,
            "error": error,
            "failed": failed,
            "languages": Language.choices,
            "new_values": values if failed == "new" else _values(user, None),
            "placeholders": ["{" + p + "}" for p in PLACEHOLDERS],
            "nav": "canned",
        },
        status=400 if error else 200,
    )


@login_required
def canned_for_conversation(request: AgentRequest, code: str) -> JsonResponse:
    """Every canned reply the agent may use, filled in for this conversation; those in the
    conversation's language first."""
    user = request.user
    conversation = access_conversation_by_code(user, code)
    language = (conversation.language or conversation.contact.language or user.language or "it")[:2]
    items = sorted(canned_for(user), key=lambda c: (c.language != language, c.shortcut, c.owner_id is None))
    return JsonResponse(
        {
            "language": language,
            "items": [
                {
                    "code": c.code,
                    "shortcut": c.shortcut,
                    "title": c.title,
                    "language": c.language,
                    "shared": c.shared,
                    "text": actions.render_for(user, c, conversation),
                }
                for c in items
            ],
        }
    )
