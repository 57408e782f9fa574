"""Serving a message's attachment to the agents of its organisation only."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse

from adesso.conversations.access import access_attachment_by_code
from adesso.front.views.common import AgentRequest

# Types a browser may show inline without running anything from the customer.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
                "text/plain"}


@login_required
def attachment(request: AgentRequest, code: str) -> FileResponse:
    item = access_attachment_by_code(request.user, code)
    inline = item.content_type in INLINE_TYPES
    response = FileResponse(
        item.file.open("rb"), as_attachment=not inline, filename=item.filename,
        content_type=item.content_type if inline else "application/octet-stream",
    )
    # Customer files never run as part of our pages, whatever they claim to be.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
