"""Privacy through the API: a contact's export (right of access) and erasure."""

from typing import Any

from django.http import StreamingHttpResponse
from ninja import Field, Query, Router, Schema

from adesso.accounts.access import admin_only, supervisor_only
from adesso.api.request import AgentRequest
from adesso.api.schemas import Code, ErrorOut
from adesso.audit import events as audit
from adesso.privacy.access import access_contact_for_erasure, access_contact_for_export
from adesso.privacy.erase import do_erase_contact
from adesso.privacy.export import export_filename, stream_export

router = Router()

ZIP_RESPONSE = {
    "200": {
        "description": "The export: a ZIP of JSON files (contact.json, conversations/*.json) and the "
        "attachments' and mails' files, streamed.",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class ExportQuery(Schema):
    redacted: bool = Field(
        False, description="for a third party: texts pass the organisation's PII redaction, files are left out"
    )


@router.get(
    "/contacts/{code}/export",
    response={200: None, 403: ErrorOut, 404: ErrorOut},
    openapi_extra={"responses": ZIP_RESPONSE},
)
@supervisor_only
def export_contact(request: AgentRequest, code: Code, params: Query[ExportQuery]) -> StreamingHttpResponse:
    """Everything Adesso holds about the contact (supervisors and admins; recorded in the audit log)."""
    contact = access_contact_for_export(request.auth, code)
    audit.contact_exported(actor=request.auth, contact=contact, redacted=params.redacted, via="api")
    response = StreamingHttpResponse(stream_export(contact, redacted=params.redacted), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(contact)}"'
    return response


class ErasureOut(Schema):
    contact: str
    erased_at: Any
    counts: dict[str, int] = Field(..., description="what was erased: conversations emptied, messages, files...")


@router.post("/contacts/{code}/erase", response={200: ErasureOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
@admin_only
def erase_contact(request: AgentRequest, code: Code) -> dict[str, Any]:
    """Erase the contact's personal data everywhere (admins; cannot be undone). The
    conversations stay, empty, so reports count them; the answer says what was erased."""
    contact = access_contact_for_erasure(request.auth, code)
    counts = do_erase_contact(request.auth, contact)
    return {"contact": contact.code, "erased_at": contact.erased_at, "counts": counts}
