"""Files an agent attaches to a reply: which are accepted, before anything is stored.

The type is decided by the file's name and checked against its first bytes; what the
browser or the client claims is not trusted. Programs and scripts are refused
whatever they are called, and so are pages (HTML, SVG) that could run in a reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from adesso.lib.errors import ActionError

MAX_FILES = 10

# Extension -> the content type the file is stored and sent with.
ALLOWED: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "csv": "text/csv",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
}

# The first bytes each type must start with, when it has a signature.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}

# Programs whatever their name: Windows PE, ELF, Mach-O, Java class, scripts with #!.
EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    content_type: str
    content: bytes


def _extension(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _name(filename: str) -> str:
    return " ".join(filename.split())[:200] or "attachment"


def check_size(filename: str, size: int) -> None:
    limit = settings.ADESSO_MAX_ATTACHMENT_BYTES
    if size > limit:
        raise ActionError(
            _("%(name)s is %(size)s: the limit is %(limit)s per file.")
            % {"name": _name(filename), "size": filesizeformat(size), "limit": filesizeformat(limit)},
            "attachment_too_large",
        )


def check_file(filename: str, content: bytes) -> OutgoingFile:
    """The file as it will be stored and sent, or ActionError (`attachment_too_large`,
    `attachment_type`, `attachment_empty`) saying why not."""
    name = _name(filename)
    check_size(name, len(content))
    if not content:
        raise ActionError(_("%(name)s is empty.") % {"name": name}, "attachment_empty")
    content_type = ALLOWED.get(_extension(name))
    signatures = SIGNATURES.get(content_type or "", ())
    wrong_start = signatures and not content.startswith(signatures)
    webp_wrong = content_type == "image/webp" and not (content[:4] == b"RIFF" and content[8:12] == b"WEBP")
    if content_type is None or content.startswith(EXECUTABLE_MAGIC) or wrong_start or webp_wrong:
        raise ActionError(
            _("%(name)s cannot be sent: attach images, PDF, text or office documents (%(types)s).")
            % {"name": name, "types": ", ".join(sorted(ALLOWED))},
            "attachment_type",
        )
    return OutgoingFile(name, content_type, content)


def check_files(files: list[tuple[str, bytes]]) -> list[OutgoingFile]:
    if len(files) > MAX_FILES:
        raise ActionError(_("At most %(n)d files per reply.") % {"n": MAX_FILES}, "too_many_attachments")
    return [check_file(name, content) for name, content in files]


def read_uploads(uploads: list[UploadedFile]) -> list[OutgoingFile]:
    """Files posted with the reply form: sizes checked before anything is read."""
    if len(uploads) > MAX_FILES:
        raise ActionError(_("At most %(n)d files per reply.") % {"n": MAX_FILES}, "too_many_attachments")
    for upload in uploads:
        check_size(upload.name or "", upload.size or 0)
    return [check_file(upload.name or "", upload.read()) for upload in uploads]
