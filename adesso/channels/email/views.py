"""The email channel's pages: a mail's original (shown whole, downloadable as .eml)
and, for supervisors and admins, the quarantine and the mailboxes' state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import render

from adesso.channels.email import original
from adesso.channels.email.access import (
    access_mail_by_code,
    access_mails_of_message,
    access_quarantine_by_code,
    mailboxes_for,
    quarantine_for,
)

if TYPE_CHECKING:
    from adesso.front.views.common import AgentRequest


@login_required
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
    rows = list(quarantine_for(request.user).order_by("-created_at", "-pk")[:200])
    return render(
        request,
        "email_channel/quarantine.html",
        {
            "rows": rows,
            "mailboxes": list(mailboxes_for(request.user).order_by("channel__name")),
        },
    )


@login_required
def quarantine_download(request: AgentRequest, code: str) -> FileResponse:
    row = access_quarantine_by_code(request.user, code)
    return _eml(row.raw, f"quarantined-{row.code}.eml")
