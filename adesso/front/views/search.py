"""Search over messages and contacts of the agent's organisation."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from adesso.conversations.search import search_contacts, search_messages
from adesso.front.views.common import AgentRequest


@login_required
def search(request: AgentRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    found_messages = list(search_messages(request.user, q)) if q else []
    found_contacts = list(search_contacts(request.user, q)) if q else []
    context = {"q": q, "found_messages": found_messages, "found_contacts": found_contacts,
               "nav": "search"}
    return render(request, "front/search.html", context)
