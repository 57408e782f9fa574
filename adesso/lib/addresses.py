"""Normalising the addresses by which a customer is known."""

import re

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(value: str) -> str:
    """Lowercased, trimmed email, or '' when it is not an email address."""
    value = value.strip().lower()
    return value if _EMAIL.match(value) else ""


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
