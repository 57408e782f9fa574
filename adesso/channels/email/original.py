"""A stored mail shown whole to an agent: its main headers and its body, the HTML
sanitised (inline images pointed at their stored attachments)."""

from __future__ import annotations

import email
from dataclasses import dataclass
from email import policy

from django.urls import reverse

from adesso.channels.email.parse import _body_parts, _header, _part_text
from adesso.lib.html import sanitize_html

SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID", "In-Reply-To")


@dataclass
class Original:
    headers: list[tuple[str, str]]
    html: str  # sanitised
    text: str


def render(raw: bytes, inline: dict[str, str]) -> Original:
    msg = email.message_from_bytes(raw, policy=policy.default)
    headers = [(name, _header(msg, name)) for name in SHOWN_HEADERS if _header(msg, name)]
    try:
        text_part, html_part = _body_parts(msg)
        text = _part_text(text_part) if text_part is not None else ""
        html = _part_text(html_part) if html_part is not None else ""
    except Exception:  # shown as the raw source instead, which is always there
        text, html = raw.decode("utf-8", "replace"), ""
    for cid, code in inline.items():
        html = html.replace(f"cid:{cid}", reverse("front:attachment", args=[code]))
    return Original(headers=headers, html=sanitize_html(html) if html else "", text=text)
