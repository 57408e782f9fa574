"""Tags on the conversation page: add one (new names create the tag), take one off."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from adesso.conversations.access import access_conversation_by_code
from adesso.conversations.tagging import do_tag, do_untag
from adesso.front.views.common import AgentRequest
from adesso.lib.errors import ActionError


def _back(code: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("front:conversation", args=[code]) + "#tags")


@login_required
@require_POST
def add_tag(request: AgentRequest, code: str) -> HttpResponse:
    conversation = access_conversation_by_code(request.user, code)
    try:
        tag = do_tag(request.user, conversation, request.POST.get("tag", "")[:200])
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Tag %(tag)s added.") % {"tag": tag.name})
    return _back(conversation.code)


@login_required
@require_POST
def remove_tag(request: AgentRequest, code: str) -> HttpResponse:
    conversation = access_conversation_by_code(request.user, code)
    name = request.POST.get("tag", "")[:200]
    if do_untag(request.user, conversation, name):
        messages.success(request, _("Tag %(tag)s removed.") % {"tag": name})
    return _back(conversation.code)
