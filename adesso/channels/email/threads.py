"""Which conversation a mail belongs to, and the headers that let replies find it.

In order: a Message-ID we know in In-Reply-To/References, our own encoded
Message-ID, the plus-address `reply+<code>@`, the subject token `[#<code>]`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from adesso.channels.email.config import EmailConfig

if TYPE_CHECKING:
    from adesso.channels.email.parse import ParsedMail
    from adesso.channels.models import Channel

_CODE = r"[a-z2-9]{6,16}"
# <adesso.<message code>.<conversation code>@domain>: the Message-ID of every mail we send.
_OUR_ID = re.compile(rf"^adesso\.({_CODE})\.({_CODE})@", re.IGNORECASE)
_SUBJECT_TOKEN = re.compile(rf"\[#({_CODE})\]", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^\s*((re|r|aw|sv|fwd?|i|rif)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def our_message_id(message_code: str, conversation_code: str, domain: str) -> str:
    return f"adesso.{message_code}.{conversation_code}@{domain}"


def decode_our_id(message_id: str) -> tuple[str, str] | None:
    """(message code, conversation code) when the Message-ID is one of ours."""
    match = _OUR_ID.match(message_id)
    return (match.group(1).lower(), match.group(2).lower()) if match else None


def reply_subject(subject: str, conversation_code: str) -> str:
    """`Re: <subject> [#code]`, whatever prefixes and token the subject had."""
    base = _SUBJECT_TOKEN.sub("", _REPLY_PREFIX.sub("", subject or "")).strip()
    token = f"[#{conversation_code}]"
    return f"Re: {base} {token}" if base else f"Re: {token}"


def find_thread(channel: Channel, config: EmailConfig, mail: ParsedMail) -> tuple[str, str]:
    """(conversation code, how it was found), or ("", "") for a mail that starts anew."""
    from adesso.channels.email.models import Mail

    refs = list(dict.fromkeys([*reversed(mail.in_reply_to), *reversed(mail.references)]))
    if refs:
        known = dict(
            Mail.objects.filter(channel=channel, msgid__in=refs[:50], message__isnull=False).values_list(
                "msgid", "message__conversation__code"
            )
        )
        for ref in refs:
            if ref in known:
                return known[ref], "references"
        for ref in refs:
            ours = decode_our_id(ref)
            if ours is not None:
                return ours[1], "our-message-id"
    local, _, domain = config.address.partition("@")
    local = local.split("+", 1)[0]
    plus = re.compile(rf"^{re.escape(local)}\+({_CODE})@{re.escape(domain)}$", re.IGNORECASE)
    for address in mail.recipients:
        match = plus.match(address)
        if match:
            return match.group(1).lower(), "plus-address"
    token = _SUBJECT_TOKEN.search(mail.subject)
    if token:
        return token.group(1).lower(), "subject"
    return "", ""
