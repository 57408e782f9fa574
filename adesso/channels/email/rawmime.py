"""The raw MIME of a mail posted by a provider's webhook, as the bytes the provider
sent: never decoded as text on the way, so an 8-bit ISO-8859-1 or Shift_JIS mail
reaches the parser as it left the sender.

Django decodes form fields as UTF-8 with replacement (an 8-bit Latin-1 "è" would
become U+FFFD before anything could parse it), so the field is read here from the
request's body directly: a multipart/form-data part's bytes, or a urlencoded
value's percent-decoded bytes. JSON payloads carry text: a Postmark `RawEmail`
(or an SES notification without Base64) is turned back into bytes the way that
loses nothing (Latin-1 when every character fits in a byte, which undoes a
byte-per-character decoding; UTF-8 otherwise).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest

# The form field that holds the raw MIME, per provider (posted as a form).
FORM_FIELDS = {"mailgun": "body-mime", "sendgrid": "email"}
_NAME = re.compile(rb"""\bname\s*=\s*(?:"([^"]*)"|([^;\s]+))""", re.IGNORECASE)


def text_to_bytes(value: str) -> bytes:
    """Raw MIME that travelled as text, back to bytes."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


def form_field(request: HttpRequest, name: str) -> bytes | None:
    """A form field's bytes exactly as posted, or None when it is not there."""
    content_type = request.META.get("CONTENT_TYPE", "")
    body = request.body
    if content_type.lower().startswith("multipart/form-data"):
        match = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
        return _multipart_field(body, match.group(1).encode("latin-1"), name) if match else None
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
            if key == name:
                return value.encode("latin-1")
    return None


def _multipart_field(body: bytes, boundary: bytes, name: str) -> bytes | None:
    delimiter = b"--" + boundary
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        if not sep:
            continue
        disposition = next((line for line in head.splitlines() if line.lower().startswith(b"content-disposition")), b"")
        found = _NAME.search(disposition)
        field = (found.group(1) or found.group(2)) if found else b""
        if field.decode("latin-1") != name:
            continue
        # The part ends with the CRLF that belongs to the next delimiter.
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        transfer = next(
            (line for line in head.splitlines() if line.lower().startswith(b"content-transfer-encoding")), b""
        )
        if b"base64" in transfer.lower():
            try:
                return base64.b64decode(content)
            except (binascii.Error, ValueError):
                return None
        return content
    return None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def raw_mime(request: HttpRequest, provider: str) -> bytes | None:
    """The raw MIME the provider posted, as bytes; None when it sent parsed fields only
    (then the caller rebuilds the mail from anymail's normalised message)."""
    if provider in FORM_FIELDS:
        return form_field(request, FORM_FIELDS[provider])
    payload = _json(request.body)
    if not isinstance(payload, dict):
        return None
    if provider == "postmark":
        raw = payload.get("RawEmail")
        return text_to_bytes(raw) if isinstance(raw, str) and raw.strip() else None
    if provider == "amazon-ses" and payload.get("Type") == "Notification":
        event = _json(str(payload.get("Message", "")).encode("utf-8"))
        if not isinstance(event, dict) or event.get("notificationType") != "Received":
            return None
        action = (event.get("receipt") or {}).get("action") or {}
        content = event.get("content")
        if action.get("type") != "SNS" or not isinstance(content, str):
            return None
        if action.get("encoding") == "BASE64":
            try:
                return base64.b64decode(content.encode("ascii"))
            except (binascii.Error, ValueError, UnicodeEncodeError):
                return None
        return text_to_bytes(content)
    return None
