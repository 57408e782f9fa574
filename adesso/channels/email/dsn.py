"""Bounces: delivery status notifications (RFC 3464, multipart/report) and the
plainer ones some servers still send, reduced to what failed and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

_MSGID = re.compile(r"<([^<>\s]{1,250})>")


@dataclass
class Bounce:
    failed: bool  # False for "delayed" or "delivered" reports
    original_message_id: str  # the Message-ID of the mail that bounced, if found
    recipients: list[str] = field(default_factory=list)
    status: str = ""  # e.g. 5.1.1
    diagnostic: str = ""

    def summary(self) -> str:
        parts = [", ".join(self.recipients)] if self.recipients else []
        if self.status:
            parts.append(self.status)
        if self.diagnostic:
            parts.append(self.diagnostic)
        return " · ".join(parts)[:500]


def _text(value: object) -> str:
    return " ".join(str(value or "").replace("\x00", "").split())


def parse_bounce(msg: Message) -> Bounce | None:
    """The bounce this mail is, or None when it is not a delivery report."""
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "") or "").lower()
    if ctype == "multipart/report" and report_type not in {"", "delivery-status"}:
        return None  # e.g. a read receipt (disposition-notification): not a bounce
    sender = _text(msg.get("From")).lower()
    has_status = any(p.get_content_type() == "message/delivery-status" for p in msg.walk())
    is_daemon = "mailer-daemon@" in sender or "postmaster@" in sender
    if ctype != "multipart/report" and not has_status and not (is_daemon and _text(msg.get("X-Failed-Recipients"))):
        return None
    bounce = Bounce(failed=True, original_message_id="")
    actions: list[str] = []
    for part in msg.walk():
        part_type = part.get_content_type()
        if part_type == "message/delivery-status":
            _read_status(part, bounce, actions)
        elif part_type in {"message/rfc822", "text/rfc822-headers"} and not bounce.original_message_id:
            bounce.original_message_id = _original_id(part)
    if not bounce.recipients:
        bounce.recipients = [r.strip() for r in _text(msg.get("X-Failed-Recipients")).split(",") if r.strip()]
    if actions and not any(a.startswith("failed") for a in actions):
        bounce.failed = False
    return bounce


def _read_status(part: Message, bounce: Bounce, actions: list[str]) -> None:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    for block in blocks:
        if not isinstance(block, Message):
            continue
        recipient = _text(block.get("Final-Recipient") or block.get("Original-Recipient"))
        if recipient:
            bounce.recipients.append(recipient.split(";", 1)[-1].strip())
        action = _text(block.get("Action")).lower()
        if action:
            actions.append(action)
        status = _text(block.get("Status"))
        if status and not bounce.status:
            bounce.status = status[:20]
        diagnostic = _text(block.get("Diagnostic-Code"))
        if diagnostic and not bounce.diagnostic:
            bounce.diagnostic = diagnostic.split(";", 1)[-1].strip()[:300]


def _original_id(part: Message) -> str:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        headers = inner[0] if isinstance(inner, list) and inner else None
        value = _text(headers.get("Message-ID")) if isinstance(headers, Message) else ""
    else:
        content = part.get_payload(decode=True)
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(part.get_payload())
        match = re.search(r"^message-id:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
        value = match.group(1) if match else ""
    found = _MSGID.findall(value)
    return found[0] if found else ""
