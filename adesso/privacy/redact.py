"""Hiding personal data in text for third parties and analytics (docs/privacy.md).

Each kind is found by a pattern that runs in linear time (no nested quantifiers) and,
where the format has one, confirmed by its check digits, so an order number is not
taken for a card: codice fiscale (the control letter), IBAN (mod 97), payment cards
(Luhn). Found values become a placeholder naming the kind: "[IBAN]", "[EMAIL]".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

EMAIL = "email"
PHONE = "phone"
IBAN = "iban"
CARD = "card"
CODICE_FISCALE = "codice_fiscale"
# In the order they are applied: cards and IBANs before phones, whose digits they contain.
KINDS = (EMAIL, IBAN, CARD, CODICE_FISCALE, PHONE)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")
# Two letters, two check digits, then 11-30 letters and digits, in groups of up to 4.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b", re.IGNORECASE)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_CF = re.compile(
    r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b", re.IGNORECASE
)
# An international number, or an Italian one (mobile 3xx, landline 0x), with spaces,
# dots, dashes or a bracketed prefix between the digits.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{1,3}[ .-]?)?[03]\d{1,3}(?:[ .-]?\d){5,9}(?!\w)"
    r"|(?<![\w(])\(0\d{1,3}\)[ .-]?\d(?:[ .-]?\d){5,9}(?!\w)"
    r"|(?<![\w+])(?:\+|00)\d{1,3}(?:[ .-]?\d){6,12}(?!\w)"
)

PLACEHOLDERS = {
    EMAIL: "[EMAIL]",
    PHONE: "[PHONE]",
    IBAN: "[IBAN]",
    CARD: "[CARD]",
    CODICE_FISCALE: "[CODICE FISCALE]",
}


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def iban_valid(value: str) -> bool:
    iban = value.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban.isalnum():
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


_CF_ODD = {
    **dict(zip("0123456789", (1, 0, 5, 7, 9, 13, 15, 17, 19, 21), strict=True)),
    **dict(
        zip(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
            strict=True,
        )
    ),
}


def codice_fiscale_valid(value: str) -> bool:
    """The 16th character is the control letter of the first 15 (decreto ministeriale 1976)."""
    cf = value.upper()
    if len(cf) != 16:
        return False
    total = 0
    for i, ch in enumerate(cf[:15]):
        if i % 2 == 0:  # odd positions counting from 1
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - ord("A")
    return chr(ord("A") + total % 26) == cf[15]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


_CHECKS: dict[str, tuple[re.Pattern[str], Callable[[str], bool]]] = {
    EMAIL: (_EMAIL, lambda v: True),
    IBAN: (_IBAN, lambda v: bool(_iban_prefix(v))),
    CARD: (_CARD, lambda v: 13 <= len(_digits(v)) <= 19 and luhn_valid(_digits(v))),
    CODICE_FISCALE: (_CF, codice_fiscale_valid),
    PHONE: (_PHONE, lambda v: 8 <= len(_digits(v)) <= 15),
}


def _iban_prefix(value: str) -> str:
    """The longest valid IBAN `value` starts with: the pattern may have run on into the
    next word ("IT60 X054 ... 456 carta")."""
    parts = value.split(" ")
    for end in range(len(parts), 0, -1):
        candidate = " ".join(parts[:end])
        if iban_valid(candidate):
            return candidate
    return ""


def _sub_iban(match: re.Match[str]) -> str:
    value = match.group(0)
    prefix = _iban_prefix(value)
    return PLACEHOLDERS[IBAN] + value[len(prefix) :] if prefix else value


def redact(text: str, kinds: Iterable[str] = KINDS) -> str:
    """`text` with every value of the given kinds replaced by its placeholder."""
    wanted = set(kinds)
    for kind in KINDS:
        if kind not in wanted or not text:
            continue
        pattern, valid = _CHECKS[kind]
        placeholder = PLACEHOLDERS[kind]
        if kind == IBAN:
            text = pattern.sub(_sub_iban, text)
            continue
        text = pattern.sub(_replacer(valid, placeholder), text)
    return text


def _replacer(valid: Callable[[str], bool], placeholder: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return placeholder if valid(match.group(0)) else match.group(0)

    return replace


def found(text: str, kinds: Iterable[str] = KINDS) -> list[tuple[str, str]]:
    """(kind, value) for each value `redact` would hide, in the order of KINDS."""
    wanted = set(kinds)
    out: list[tuple[str, str]] = []
    for kind in KINDS:
        if kind not in wanted:
            continue
        pattern, valid = _CHECKS[kind]
        for m in pattern.finditer(text):
            if valid(m.group(0)):
                out.append((kind, _iban_prefix(m.group(0)) if kind == IBAN else m.group(0)))
        text = redact(text, [kind])
    return out
