"""The silence guard page: who is still waiting for a human answer."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from adesso.conversations.queries import silent
from adesso.front.views.common import AgentRequest

PAGE_SIZE = 50


@login_required
def silence(request: AgentRequest) -> HttpResponse:
    page = Paginator(silent(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "front/silence.html",
                  {"page": page, "conversations": list(page.object_list), "nav": "silence"})
