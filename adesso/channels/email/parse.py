"""Raw MIME bytes -> ParsedMail: the one parser behind IMAP and the providers' webhooks.

Python's `email` package with `policy.default` (RFC 2047 headers, encoded
bodies). Charsets are decoded leniently: mail labelled ISO-8859-1 is read as
Windows-1252 (its superset, which Outlook really sends), an unknown or wrong
label falls back to UTF-8 then Windows-1252, so Italian accents survive. What
cannot be parsed at all raises MailError, and the caller quarantines it.
"""

from __future__ import annotations

import binascii
import contextlib
import datetime as dt
import email
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message

from adesso.channels.base import InboundAttachment
from adesso.channels.email.charsets import Decoded, decode_text
from adesso.channels.email.dsn import Bounce, parse_bounce
from adesso.channels.email.loops import automated_reason
from adesso.lib.addresses import normalize_email


class MailError(ValueError):
    """A mail that cannot become a message; the text is the reason shown to admins."""


@dataclass
class ParsedMail:
    key: str  # Message-ID without <>, or "sha256:<digest>" when there is none
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    from_name: str
    from_address: str
    recipients: list[str]  # To, Cc, Delivered-To, X-Original-To: normalised addresses
    subject: str
    date: dt.datetime | None
    text: str  # the whole text body (plain, or rendered from the HTML)
    html: str  # the HTML body as sent (unsanitised), "" if none
    attachments: list[InboundAttachment] = field(default_factory=list)
    inline: dict[str, int] = field(default_factory=dict)  # Content-ID -> index in attachments
    skipped: list[str] = field(default_factory=list)  # attachments over the size limit
    automated: str = ""
    bounce: Bounce | None = None
    undecodable: str = ""  # the charset of a body part some bytes of which could not be decoded


_MSGID = re.compile(r"<([^<>\s]{1,250})>")
_MAX_TEXT_CHARS = 100_000


def message_ids(value: str) -> list[str]:
    """The Message-IDs in an In-Reply-To or References header, in order, without <>."""
    found = _MSGID.findall(value or "")
    if not found and value and "@" in value and " " not in value.strip():
        found = [value.strip().strip("<>")]  # a bare id, as some clients write it
    return found


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Bytes of a text part as text, whatever its label claims (charsets.decode_text)."""
    return decode_text(payload, charset).text


def clean_text(value: str) -> str:
    """Text a database can store: raw 8-bit header bytes (kept by the parser as lone
    surrogates) decoded as their charset is likeliest to be, NUL removed."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = decode_bytes(value.encode("utf-8", "surrogateescape"), None)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")


_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([\w.:-]{1,40})""", re.IGNORECASE)


def part_charset(part: Message, payload: bytes) -> str | None:
    """The part's declared charset; for HTML without one, its <meta charset>."""
    declared = part.get_content_charset()
    if declared or part.get_content_subtype() != "html":
        return declared
    found = _META_CHARSET.search(payload[:4096])
    return found.group(1).decode("ascii") if found else None


def _decoded_part(part: Message) -> Decoded:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a body the standard library cannot even decode
        payload = None
    if not isinstance(payload, bytes):
        return Decoded("", "", False)
    decoded = decode_text(payload, part_charset(part, payload))
    # NUL and lone surrogates cannot be stored by every database.
    return Decoded(decoded.text.replace("\x00", "")[: _MAX_TEXT_CHARS * 5], decoded.charset, decoded.damaged)


def _part_text(part: Message) -> str:
    return _decoded_part(part).text


def _raw_8bit(msg: Message, name: str) -> list[str]:
    """A header's values as sent, when they hold raw 8-bit bytes (no RFC 2047): the parser
    keeps those as surrogates and would show them as U+FFFD."""
    values = [str(v) for k, v in msg.raw_items() if k.lower() == name.lower()]
    return values if any(any("\udc80" <= ch <= "\udcff" for ch in v) for v in values) else []


def _header(msg: Message, name: str) -> str:
    """A header as text; a header too broken to decode counts as absent, not as a crash."""
    raw = _raw_8bit(msg, name)
    if raw:
        return " ".join(clean_text(raw[0]).split())
    try:
        value = msg.get(name)
    except Exception:  # the header parser of policy.default has raised on odd input
        return ""
    if value is None:
        return ""
    return " ".join(clean_text(str(value)).split())


def _addresses(msg: Message, *names: str) -> list[tuple[str, str]]:
    raw = []
    for name in names:
        eight_bit = _raw_8bit(msg, name)
        if eight_bit:
            raw += [clean_text(v) for v in eight_bit]
            continue
        with contextlib.suppress(Exception):  # a header too broken to read counts as absent
            raw += [clean_text(str(v)) for v in msg.get_all(name) or []]
    found = []
    for display, address in email.utils.getaddresses(raw):
        clean = normalize_email(address)
        if clean:
            found.append((display.strip(), clean))
    return found


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name:
        return " ".join(clean_text(str(name)).split())[:200] or "attachment"
    if part.get_content_type() == "message/rfc822":
        return "forwarded.eml"
    return "attachment" + (mimetypes.guess_extension(part.get_content_type()) or ".bin")


def _attachment_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return bytes(inner[0].as_bytes(policy=policy.SMTP))
        return b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def parse_mail(raw: bytes, own_addresses: set[str], max_attachment: int) -> ParsedMail:
    """Parse one mail. `own_addresses`: our channels' addresses (mail from them is ours,
    never a customer's). Raises MailError for what cannot be a message."""
    if not raw.strip():
        raise MailError("The mail is empty")
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:
        raise MailError(f"The MIME structure cannot be parsed ({type(exc).__name__})") from None
    try:
        return _parse(msg, raw, own_addresses, max_attachment)
    except MailError:
        raise
    except (RecursionError, MemoryError):
        raise MailError("The MIME structure is nested too deeply") from None
    except Exception as exc:
        # The standard library still raises on some malformed input; the mail is kept
        # in quarantine with this reason rather than stopping the fetcher.
        raise MailError(f"The mail cannot be parsed ({type(exc).__name__}: {str(exc)[:200]})") from None


def _parse(msg: EmailMessage, raw: bytes, own: set[str], max_attachment: int) -> ParsedMail:
    senders = _addresses(msg, "From") or _addresses(msg, "Sender", "Return-Path")
    bounce = parse_bounce(msg)
    if not senders and bounce is None:
        raise MailError("The mail has no sender address (From)")
    from_name, from_address = senders[0] if senders else ("", "")
    message_id_list = message_ids(_header(msg, "Message-ID"))
    message_id = message_id_list[0] if message_id_list else ""
    key = message_id if message_id else "sha256:" + digest(raw)
    date = None
    try:
        value = msg.get("Date")
        if value is not None and getattr(value, "datetime", None) is not None:
            date = value.datetime
            if date is not None and date.tzinfo is None:
                date = None  # a naive date says nothing reliable
            elif date is not None:
                date.astimezone(dt.UTC)
    except Exception:
        date = None
    text_part, html_part = _body_parts(msg)
    html_decoded = _decoded_part(html_part) if html_part is not None else Decoded("", "", False)
    text_decoded = _decoded_part(text_part) if text_part is not None else Decoded("", "", False)
    html, text = html_decoded.text, text_decoded.text
    text, uuencoded = uudecoded(text)
    shown = text_decoded if text.strip() else html_decoded
    parsed = ParsedMail(
        key=key,
        message_id=message_id,
        in_reply_to=message_ids(_header(msg, "In-Reply-To")),
        references=message_ids(_header(msg, "References")),
        from_name=from_name[:200],
        from_address=from_address,
        recipients=[a for _, a in _addresses(msg, "To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")],
        subject=_header(msg, "Subject")[:300],
        date=date,
        text=text,
        html=html,
        bounce=bounce,
        undecodable=shown.charset if shown.damaged else "",
    )
    _collect_attachments(msg, {id(text_part), id(html_part)}, parsed, max_attachment)
    for attachment in uuencoded:
        if len(attachment.content) > max_attachment:
            parsed.skipped.append(f"{attachment.filename} ({len(attachment.content)} bytes)")
        else:
            parsed.attachments.append(attachment)
    parsed.automated = automated_reason(lambda name: _header(msg, name), from_address, own)
    if (bounce is not None or msg.get_content_type() == "multipart/report") and not parsed.automated:
        parsed.automated = "delivery report"
    return parsed


_UU_BEGIN = re.compile(r"^begin [0-7]{3,4} (\S[^\n]{0,200})$")


def _uu_line(line: str) -> bytes:
    try:
        return binascii.a2b_uu(line)
    except binascii.Error:
        # Encoders that pad lines with extra characters: only the count the line declares.
        size = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
        return binascii.a2b_uu(line[:size])


def uudecoded(text: str) -> tuple[str, list[InboundAttachment]]:
    """A plain-text body with uuencoded files in it ("begin 644 report.csv" ... "end"),
    as old mailers and cron jobs still send them: the text without the encoded lines,
    and the files as attachments. A block that does not decode stays in the text."""
    if "begin " not in text:
        return text, []
    lines = text.split("\n")
    kept: list[str] = []
    files: list[InboundAttachment] = []
    i = 0
    while i < len(lines):
        match = _UU_BEGIN.match(lines[i].rstrip("\r"))
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "end"), None) if match else None
        if match is None or end is None:
            kept.append(lines[i])
            i += 1
            continue
        try:
            content = b"".join(_uu_line(line.rstrip("\r")) for line in lines[i + 1 : end] if line.strip())
        except (binascii.Error, IndexError):
            kept.append(lines[i])
            i += 1
            continue
        name = match.group(1).strip()[:200]
        files.append(InboundAttachment(name, mimetypes.guess_type(name)[0] or "application/octet-stream", content))
        i = end + 1
    return "\n".join(kept).strip("\n"), files


def _body_parts(msg: EmailMessage) -> tuple[Message | None, Message | None]:
    if msg.get_content_maintype() == "text" and msg.get_content_subtype() not in {"plain", "html"}:
        return msg, None  # text/enriched, text/calendar...: shown as text
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
    except Exception:
        plain = html = None
    if plain is None and html is None:
        # No body by the book (a bare non-multipart part, odd nesting): the first text part.
        for part in msg.walk():
            if part.get_content_maintype() == "text" and not part.is_attachment():
                if part.get_content_subtype() == "html":
                    return None, part
                return part, None
    return plain, html


def _collect_attachments(msg: EmailMessage, bodies: set[int], parsed: ParsedMail, limit: int) -> None:
    walker = msg.walk()
    for part in walker:
        if id(part) in bodies:
            continue
        ctype = part.get_content_type()
        if ctype == "message/rfc822" or ctype == "message/delivery-status":
            # A forwarded mail travels whole as one .eml; the report lives in the bounce.
            if ctype == "message/rfc822":
                _add_attachment(part, parsed, limit)
            _skip_children(part, walker)
            continue
        if part.is_multipart() or ctype == "text/rfc822-headers":
            continue
        is_attachment = part.is_attachment() or bool(part.get_filename())
        is_inline_image = part.get_content_maintype() == "image" and bool(part.get("Content-ID"))
        if not (is_attachment or is_inline_image or part.get_content_maintype() not in {"text"}):
            continue
        _add_attachment(part, parsed, limit)


def _skip_children(part: Message, walker: object) -> None:
    # walk() is depth-first: consume the nested parts of a message/* part.
    payload = part.get_payload()
    if not isinstance(payload, list):
        return
    count = sum(len(list(inner.walk())) for inner in payload if isinstance(inner, Message))
    for _ in range(count):
        next(walker, None)  # type: ignore[call-overload]


def _add_attachment(part: Message, parsed: ParsedMail, limit: int) -> None:
    content = _attachment_bytes(part)
    name = _filename(part)
    if not content:
        return
    if len(content) > limit:
        parsed.skipped.append(f"{name} ({len(content)} bytes)")
        return
    cid = _header(part, "Content-ID").strip("<>")
    if cid:
        parsed.inline[cid] = len(parsed.attachments)
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        ctype = "message/rfc822"
    parsed.attachments.append(InboundAttachment(name, ctype[:100], content))
