"""Italian or English? Detected from a customer's own words (simplemma's data, offline)."""

from __future__ import annotations

import functools
import re

import simplemma

LANGUAGES = ("it", "en")

_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?")
# Short messages often score the same in both: these words settle it.
_MARKERS = {
    "it": re.compile(r"\b(ciao|grazie|buongiorno|buonasera|salve|perch[eé]|non|sono|il|la|che|mio|mia|ho|è)\b", re.I),
    "en": re.compile(r"\b(hi|hello|thanks|thank|please|why|not|the|my|is|i|am|you|your)\b", re.I),
}


def detect_language(text: str, fallback: str = "") -> str:
    """"it" or "en" when the text says so clearly enough, else `fallback`."""
    if len(text) > 2000:
        return _detect.__wrapped__(text, fallback)  # long texts are not kept
    return _detect(text, fallback)


# Intake asks twice for a new customer's first message (the conversation's language,
# then the acknowledgement's): the second answer is remembered.
@functools.lru_cache(maxsize=256)
def _detect(text: str, fallback: str) -> str:
    # A bot command ("/start", "/start@PasticceriaBot ordine42") is no one's language.
    text = _COMMAND.sub("", text).strip()
    if not text:
        return fallback
    scores = dict(simplemma.langdetect(text[:2000], lang=LANGUAGES))
    it, en = scores.get("it", 0.0), scores.get("en", 0.0)
    if max(it, en) >= 0.3 and abs(it - en) >= 0.1:
        return "it" if it > en else "en"
    counts = {lang: len(pattern.findall(text)) for lang, pattern in _MARKERS.items()}
    if counts["it"] != counts["en"]:
        return "it" if counts["it"] > counts["en"] else "en"
    return fallback
