"""Normalising the addresses by which a customer is known."""

import re

# RFC 5321's limit on a path: nothing longer is an address (and nothing longer is read).
MAX_EMAIL_CHARS = 254


def normalize_email(value: str) -> str:
    """Lowercased, trimmed email, or '' when it is not an email address: one "@" with
    something before it, a dot inside what follows, no whitespace, at most 254
    characters. Checked by splitting, in linear time (the pattern it replaces,
    `^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$`, backtracked quadratically on long dotted input)."""
    value = value.strip().lower()
    if len(value) > MAX_EMAIL_CHARS or not value or any(ch.isspace() for ch in value):
        return ""
    local, _, domain = value.partition("@")
    if not local or not domain or "@" in domain or "." not in domain[1:-1]:
        return ""
    return value


def normalize_phone(value: str, default_country: str = "39") -> str:
    """Digits in E.164 form with a leading '+', or '' when it cannot be a phone.

    Numbers without an international prefix are taken as Italian, the
    default market; `00` is read as `+`.
    """
    value = value.strip()
    if not value:
        return ""
    plus = value.startswith("+") or value.startswith("00")
    digits = re.sub(r"\D", "", value)
    if value.startswith("00"):
        digits = digits[2:]
    if not plus:
        digits = default_country + digits
    if not 8 <= len(digits) <= 15:
        return ""
    return "+" + digits
