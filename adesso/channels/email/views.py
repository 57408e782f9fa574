"""The email channel's views: the inbound webhooks (webhooks.receive: verify, store,
answer), a mail's original (shown whole, downloadable as .eml) and, for supervisors
and admins, the quarantine and the mailboxes' state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from adesso.channels.email import original, senders
from adesso.channels.email.access import (
    QuarantinedMail,
    access_mail_by_code,
    access_mails_of_message,
    access_quarantine_by_code,
    mailboxes_for,
    quarantine_for,
)
from adesso.channels.email.webhooks import receive
from adesso.lib.remoteimages import SHOWN_ON_REQUEST

if TYPE_CHECKING:
    from adesso.front.views.common import AgentRequest


@csrf_exempt
def inbound(request: HttpRequest, channel_code: str, provider: str | None = None) -> HttpResponse:
    """POST /channels/email/<code>/inbound[/<provider>]: a provider's inbound mail."""
    return receive(request, provider, channel_code)


@csrf_exempt
def legacy_inbound(request: HttpRequest, provider: str, channel_code: str) -> HttpResponse:
    """/mail/inbound/<provider>/<code>: the address providers were given before the
    channel moved to /channels/email/ (kept working)."""
    return receive(request, provider, channel_code)


@login_required
@csp_update(SHOWN_ON_REQUEST)  # type: ignore[arg-type]  # remote images held until asked (lib/remoteimages.py)
def message_original(request: AgentRequest, code: str) -> HttpResponse:
    message, mails = access_mails_of_message(request.user, code)
    shown = []
    for mail in mails:
        if not mail.raw:
            continue  # its file was removed (retention): the row alone says nothing to show
        with mail.raw.open("rb") as f:
            shown.append((mail, original.render(f.read(), mail.inline)))
    return render(
        request,
        "email_channel/original.html",
        {
            "message": message,
            "conversation": message.conversation,
            "mails": shown,
        },
    )


def _eml(file_field: object, filename: str) -> FileResponse:
    response = FileResponse(
        file_field.open("rb"),  # type: ignore[attr-defined]
        as_attachment=True,
        filename=filename,
        content_type="message/rfc822",
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def mail_download(request: AgentRequest, code: str) -> FileResponse:
    mail = access_mail_by_code(request.user, code)
    return _eml(mail.raw, f"{mail.kind}-{mail.code}.eml")


@login_required
def quarantine(request: AgentRequest) -> HttpResponse:
    rows = quarantine_for(request.user)
    return render(
        request,
        "email_channel/quarantine.html",
        {
            "rows": rows,
            "mailboxes": list(mailboxes_for(request.user).order_by("channel__name")),
        },
    )


@login_required
def quarantine_download(request: AgentRequest, code: str) -> HttpResponseBase:
    row = access_quarantine_by_code(request.user, code)
    if isinstance(row, QuarantinedMail):
        response = HttpResponse(row.raw or b"", content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="quarantined-{row.code}.eml"'
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["X-Content-Type-Options"] = "nosniff"
        return response
    return _eml(row.raw, f"quarantined-{row.code}.eml")


@require_http_methods(["GET", "POST"])
def verify_sender(request: HttpRequest, channel_code: str, token: str) -> HttpResponse:
    """The link of the proof mail (senders.py): GET shows a button, POST proves the
    address (a link scanner that only GETs proves nothing). No login: the link, sent
    to the address, is the proof."""
    proof = senders.proof_for_link(channel_code, token)
    if proof is not None and request.method == "POST":
        senders.do_prove(proof)
        proof.refresh_from_db()
    return render(request, "email_channel/verify_sender.html", {"proof": proof}, status=200 if proof else 404)
