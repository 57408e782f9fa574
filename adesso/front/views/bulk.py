"""Bulk actions from the inbox's checkboxes: assign, tag, resolve, snooze.

Resolving conversations whose customers still wait for an answer asks one reason
for all of them (the silence guard), on a page of its own when the inbox did not
already send one.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from adesso.accounts.access import access_agent_by_code
from adesso.conversations.bulk import MAX_CODES, BulkChange, BulkResult, do_bulk, selected, unanswered
from adesso.front.snooze import parse_until
from adesso.front.views.common import AgentRequest
from adesso.lib.errors import ActionError

DONE = {
    "assign": lambda n: ngettext("%(n)d conversation assigned.", "%(n)d conversations assigned.", n),
    "tag": lambda n: ngettext("%(n)d conversation tagged.", "%(n)d conversations tagged.", n),
    "untag": lambda n: ngettext("Tag removed from %(n)d conversation.", "Tag removed from %(n)d conversations.", n),
    "resolve": lambda n: ngettext("%(n)d conversation resolved.", "%(n)d conversations resolved.", n),
    "snooze": lambda n: ngettext("%(n)d conversation snoozed.", "%(n)d conversations snoozed.", n),
}


def _next(request: AgentRequest) -> str:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return reverse("front:inbox")
    return target or reverse("front:inbox")


def _change(request: AgentRequest, action: str) -> BulkChange:
    post = request.POST
    change = BulkChange(
        action=action,
        note=post.get("note", "")[:5000],
        tag=post.get("tag", "")[:200],
        reason=post.get("reason", "")[:2000],
    )
    if action == "assign":
        who = post.get("assignee", "")
        change.assignee = request.user if who == "me" else access_agent_by_code(request.user, who) if who else None
    if action == "snooze":
        change.until = parse_until(post.get("preset", ""), post.get("until", ""))
    return change


def _report(request: AgentRequest, action: str, results: list[BulkResult]) -> None:
    done = sum(r.ok for r in results)
    if done:
        messages.success(request, DONE[action](done) % {"n": done})
    for r in results:
        if not r.ok:
            who = r.conversation.contact.display_name if r.conversation is not None else r.code
            messages.error(request, f"{who}: {r.message}")


@login_required
@require_POST
def bulk(request: AgentRequest) -> HttpResponse:
    codes = request.POST.getlist("codes")[:MAX_CODES]
    action = request.POST.get("action", "")
    back = _next(request)
    try:
        change = _change(request, action)
        if action == "resolve" and not change.reason.strip():
            waiting = unanswered(selected(request.user, codes))
            if waiting:
                # One reason for all of them, asked before anything is resolved.
                return render(
                    request,
                    "front/bulk_reason.html",
                    {
                        "codes": codes,
                        "waiting": waiting,
                        "next": back,
                        "nav": "inbox",
                    },
                )
        results = do_bulk(request.user, codes, change)
    except ActionError as e:
        messages.error(request, e.message)
        return HttpResponseRedirect(back)
    _report(request, action, results)
    return HttpResponseRedirect(back)
