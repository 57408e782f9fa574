"""One conversation: header, handover note, the contact's whole timeline, and the
agent's actions (reply, note, assign/transfer, status, snooze, priority)."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from adesso.accounts.access import access_agent_by_code, access_team_by_code
from adesso.accounts.models import User
from adesso.coach.actions import send_checked_reply
from adesso.contacts.queries import contact_handles
from adesso.conversations import actions
from adesso.conversations.access import access_conversation_by_code
from adesso.conversations.files import read_uploads
from adesso.conversations.models import Conversation, ConversationEvent, Priority, Status
from adesso.conversations.queries import (
    contact_history,
    conversation_events,
    conversation_messages,
    handover_note,
)
from adesso.conversations.snoozing import snooze_warnings
from adesso.conversations.tagging import tags_for
from adesso.front.snooze import PRESETS, parse_until
from adesso.front.timeline import current_entries, earlier_entries
from adesso.front.views.common import AgentRequest, agents_of, teams_of
from adesso.lib.errors import ActionError
from adesso.lib.remoteimages import SHOWN_ON_REQUEST
from adesso.realtime.collision import STALE, check_not_stale


def _names(user: User) -> dict[str, str]:
    # Inactive agents too: the timeline still names who did what.
    return {
        code: name or email.split("@")[0]
        for code, name, email in User.objects.filter(
            organization_id=user.organization_id
        ).values_list("code", "name", "email")
    }


def _header(conversation: Conversation, events: list[ConversationEvent]) -> dict[str, Any]:
    return {"conversation": conversation, "handover": handover_note(events)}


def _timeline(
    user: User, conversation: Conversation, events: list[ConversationEvent]
) -> dict[str, Any]:
    team_names = {t.code: t.name for t in teams_of(user)}
    messages_ = conversation_messages(conversation)
    return {
        "conversation": conversation,
        "earlier": earlier_entries(contact_history(conversation.contact, exclude=conversation)),
        "entries": current_entries(messages_, events, _names(user), team_names),
        # The newest message drawn: a reply carries it back (realtime.collision).
        "last_message": messages_[-1].code if messages_ else "",
    }


def _page(
    request: AgentRequest, conversation: Conversation, errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, status: int = 200, extra: dict[str, Any] | None = None,
) -> HttpResponse:
    user = request.user
    events = conversation_events(conversation)
    context = {
        **_header(conversation, events),
        **_timeline(user, conversation, events),
        "agents": agents_of(user),
        "teams": teams_of(user),
        "priorities": Priority.choices,
        "presets": PRESETS,
        "handles": contact_handles(conversation.contact),
        "customer_facts": _customer_facts(conversation),
        "errors": errors or {},
        "values": values or {},
        "nav": "inbox",
        "all_tags": list(tags_for(user).values_list("name", flat=True)),
        **(extra or {}),
    }
    return render(request, "front/conversation.html", context, status=status)


def _customer_facts(conversation: Conversation) -> list[Any]:
    """What the conversation's channel knows of the customer (the web chat: their page)."""
    from adesso.channels.registry import get_kind

    try:
        kind = get_kind(conversation.channel.kind)
    except KeyError:
        return []
    return kind.customer_facts(conversation.channel, conversation)


def _back(conversation: Conversation) -> HttpResponse:
    return HttpResponseRedirect(reverse("front:conversation", args=[conversation.code]))


@login_required
@csp_update(SHOWN_ON_REQUEST)  # type: ignore[arg-type]  # remote images held until asked (lib/remoteimages.py)
def conversation(request: AgentRequest, code: str) -> HttpResponse:
    return _page(request, access_conversation_by_code(request.user, code))


@login_required
def header(request: AgentRequest, code: str) -> HttpResponse:
    conversation = access_conversation_by_code(request.user, code)
    context = _header(conversation, conversation_events(conversation))
    return render(request, "front/_conversation_header.html", context)


@login_required
def timeline(request: AgentRequest, code: str) -> HttpResponse:
    conversation = access_conversation_by_code(request.user, code)
    context = _timeline(request.user, conversation, conversation_events(conversation))
    return render(request, "front/_timeline.html", context)


@login_required
@require_POST
def reply(request: AgentRequest, code: str) -> HttpResponse:
    conversation = access_conversation_by_code(request.user, code)
    text = request.POST.get("text", "")
    internal = request.POST.get("internal") == "1"
    confirmed = request.POST.get("coach_confirmed") == "1"
    try:
        if not internal and request.POST.get("stale_confirmed") != "1":
            check_not_stale(request.user, conversation, request.POST.get("last_message", "")[:16])
        files = read_uploads(request.FILES.getlist("files"))
        send_checked_reply(request.user, conversation, text, internal, confirmed, files)
    except ActionError as e:
        values = {"text": text, "coach_confirm": "1" if e.code == "coach_confirm" else "",
                  "stale": "1" if e.code == STALE else ""}
        return _page(request, conversation, {"reply": e.message}, values, status=409 if e.code == STALE else 400)
    messages.success(request, _("Internal note added.") if internal else _("Reply sent."))
    return _back(conversation)


@login_required
@require_POST
def assign(request: AgentRequest, code: str) -> HttpResponse:
    """Assign, or transfer with a handover note; a transfer without one is refused."""
    user = request.user
    conversation = access_conversation_by_code(user, code)
    agent_code, team_code = request.POST.get("assignee", ""), request.POST.get("team", "")
    note = request.POST.get("note", "")
    assignee = access_agent_by_code(user, agent_code) if agent_code else None
    team = access_team_by_code(user, team_code) if team_code else None
    previous = conversation.assignee_id
    try:
        actions.do_assign(user, conversation, assignee, team, note)
    except ActionError as e:
        values = {"note": note, "assignee": agent_code, "team": team_code}
        return _page(request, conversation, {"assign": e.message}, values, status=400)
    if previous is not None and previous != conversation.assignee_id:
        messages.success(request, _("Conversation transferred, with your handover note."))
    else:
        messages.success(request, _("Assignment saved."))
    return _back(conversation)


STATUS_DONE: dict[str, object] = {
    Status.OPEN: gettext_lazy("Conversation reopened."),
    Status.PENDING: gettext_lazy("Conversation marked as pending: waiting for the customer."),
    Status.RESOLVED: gettext_lazy("Conversation resolved."),
}


@login_required
@require_POST
def change_status(request: AgentRequest, code: str) -> HttpResponse:
    conversation = access_conversation_by_code(request.user, code)
    status = request.POST.get("status", "")
    try:
        actions.do_change_status(request.user, conversation, status, request.POST.get("reason", "")[:2000],
                                 sensitive=request.POST.get("sensitive") == "1")
    except ActionError as e:
        return _page(request, conversation, {"status": e.message}, status=400)
    messages.success(request, str(STATUS_DONE.get(status, "")))
    return _back(conversation)


@login_required
@require_POST
def snooze(request: AgentRequest, code: str) -> HttpResponse:
    conversation = access_conversation_by_code(request.user, code)
    value = request.POST.get("until", "")
    until = parse_until(request.POST.get("preset", ""), value)
    try:
        if until is None:
            raise ActionError(_("Pick a date and time to snooze until."), "invalid_time")
        warnings = snooze_warnings(conversation, until)
        if warnings and request.POST.get("confirmed") != "1":
            # Ask first, with the times: the same form again, sent with confirmed=1.
            return _page(request, conversation, values={"until": value},
                         extra={"snooze_warnings": warnings, "snooze_until": until})
        actions.do_snooze(request.user, conversation, until)
    except ActionError as e:
        return _page(request, conversation, {"snooze": e.message}, {"until": value}, status=400)
    messages.success(request, _("Conversation snoozed: it comes back by itself."))
    return _back(conversation)


@login_required
@require_POST
def set_priority(request: AgentRequest, code: str) -> HttpResponse:
    conversation = access_conversation_by_code(request.user, code)
    try:
        priority = int(request.POST.get("priority", ""))
    except ValueError:
        priority = -1
    try:
        actions.do_set_priority(request.user, conversation, priority)
    except ActionError as e:
        return _page(request, conversation, {"priority": e.message}, status=400)
    messages.success(request, _("Priority saved."))
    return _back(conversation)
