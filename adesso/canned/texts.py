"""Placeholders of canned replies, filled by plain substitution.

A canned reply is text its author wrote: it is never handed to a template engine
(django-helpdesk's mistake), only the exact names below are replaced; any other
braces stay as they are written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from adesso.lib.errors import ActionError

PLACEHOLDERS = ("contact_first_name", "agent_name", "conversation_code")
_NAME = re.compile(r"\{([a-z_]+)\}")
MAX_BODY_CHARS = 5000


@dataclass(frozen=True)
class Filling:
    contact_first_name: str
    agent_name: str
    conversation_code: str


def first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0] if parts else ""


def fill(body: str, filling: Filling) -> str:
    """The body with each known placeholder replaced. An empty value leaves no stray
    space before punctuation ("Ciao {contact_first_name}," -> "Ciao,")."""
    values = {
        "contact_first_name": filling.contact_first_name,
        "agent_name": filling.agent_name,
        "conversation_code": filling.conversation_code,
    }
    text = _NAME.sub(lambda m: values.get(m.group(1), m.group(0)), body)
    return re.sub(r"[ \t]+([,.!?;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


def validate_body(body: str) -> str:
    """The body as stored, or ActionError naming an unknown placeholder."""
    body = body.strip()
    if not body:
        raise ActionError(_("The reply is empty."), "empty")
    if len(body) > MAX_BODY_CHARS:
        raise ActionError(_("The reply is longer than %(n)d characters.") % {"n": MAX_BODY_CHARS}, "too_long")
    unknown = sorted({m.group(1) for m in _NAME.finditer(body)} - set(PLACEHOLDERS))
    if unknown:
        raise ActionError(
            _("Unknown placeholder {%(name)s}: use %(known)s.")
            % {"name": unknown[0], "known": ", ".join("{" + p + "}" for p in PLACEHOLDERS)},
            "invalid_placeholder",
        )
    return body
