"""Our messages in the form of a mail, as Italian (and English) business mail is
written: a greeting on its own line, the text, a sign-off with who writes.

A chat message ("Ciao Mario, abbiamo ricevuto il tuo messaggio...") becomes:

    Ciao Mario,

    abbiamo ricevuto il tuo messaggio...

    Cordiali saluti
    Assistenza Rossi

What the agent wrote is never changed, only framed: a greeting or a sign-off the
text already has is not added again.
"""

from __future__ import annotations

import re

from adesso.lib.language import detect_language
from adesso.lib.names import safe_first_name

_GREETING = re.compile(
    r"^\s*((ciao|gentil[ei]|buongiorno|buonasera|salve|egregi[oa]|spettabile|caro|cara|cari|hi|hello|dear|"
    r"good (morning|afternoon|evening))\b[^,.!\n]{0,60})[,!]\s*",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^\s*(cordiali saluti|distinti saluti|cordialmente|saluti|un saluto|buona giornata|buona serata|a presto|"
    r"grazie( mille)?|best( regards)?|kind regards|regards|many thanks|thanks|thank you|sincerely|all the best|"
    r"cheers)\b[^\n]{0,40}$",
    re.IGNORECASE | re.MULTILINE,
)
WORDS = {
    "it": {"hello": "Buongiorno", "closing": "Cordiali saluti"},
    "en": {"hello": "Hello", "closing": "Kind regards"},
}


def _language(text: str, language: str) -> str:
    if language in WORDS:
        return language
    found = detect_language(text, fallback="it")
    return found if found in WORDS else "en"


def letter(text: str, *, name: str, signer: str, language: str) -> str:
    """`text` as a mail: greeting line, body, sign-off (each only when missing)."""
    text = text.strip()
    words = WORDS[_language(text, language)]
    greeting = _GREETING.match(text)
    if greeting is not None:
        head, body = greeting.group(1).strip() + ",", text[greeting.end() :]
    else:
        first = safe_first_name(name)  # the display name is the sender's to choose
        head, body = f"{words['hello']} {first}".strip() + ",", text
    if greeting is not None and words is WORDS["en"]:
        body = body[:1].upper() + body[1:]  # Italian goes on in lower case after "Ciao Mario,"
    tail = "\n".join(body.rstrip().splitlines()[-3:])
    closing = "" if _CLOSING.search(tail) else f"\n\n{words['closing']}\n{signer}".rstrip()
    return f"{head}\n\n{body.strip()}{closing}"
