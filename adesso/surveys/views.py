"""The public page a survey's email links lead to: /s/<token>/<score> records the score
(the first click; another score replaces it until a reason is given) and asks why."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from adesso.surveys.actions import do_answer_by_link, do_reason_by_link, survey_from_token

MAX_REASON = 5000


# No session or login here: the signed token is the authority, and the form posts
# back to the same signed address (a forged post could only do what the link does).
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, token: str, score: int) -> HttpResponse:
    survey = survey_from_token(token)
    if survey is None:
        return render(request, "surveys/answer.html", {"state": "unknown"}, status=404)
    with translation.override(survey.language):
        if request.method == "POST":
            reason = request.POST.get("reason", "")
            if len(reason) > MAX_REASON:
                return render(
                    request,
                    "surveys/answer.html",
                    {"state": "too_long", "survey": survey, "reason": reason[:MAX_REASON]},
                    status=400,
                )
            if not reason.strip():
                return render(
                    request, "surveys/answer.html", {"state": "answered", "survey": survey, "empty": True}, status=400
                )
            do_reason_by_link(survey, reason)
            return render(request, "surveys/answer.html", {"state": "thanks", "survey": survey})
        if request.method == "HEAD":
            # Link checkers ask with HEAD: they must not answer for the customer.
            return HttpResponse()
        if survey.state == "reasoned":
            return render(request, "surveys/answer.html", {"state": "thanks", "survey": survey})
        if not do_answer_by_link(survey, score):
            return render(request, "surveys/answer.html", {"state": "closed", "survey": survey}, status=410)
        return render(request, "surveys/answer.html", {"state": "answered", "survey": survey})
