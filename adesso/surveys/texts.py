"""The survey's wording in the customer's language (Italian or English): not gettext,
the customer's language is not the agent's. Placeholders are filled plainly
(adesso.autoreply.texts.fill): {name}, {organization}, {low}, {high}."""

from __future__ import annotations

import re

from adesso.autoreply.texts import fill

_DONE = {"it": "Ciao {name}, la tua richiesta è stata risolta. ", "en": "Hi {name}, your request has been resolved. "}

QUESTIONS: dict[tuple[str, str], str] = {
    ("csat", "it"): _DONE["it"]
    + "Quanto sei soddisfatto dell'aiuto che hai ricevuto da {organization}, da {low} (per niente) a {high} "
    "(moltissimo)?",
    ("csat", "en"): _DONE["en"]
    + "How satisfied are you with the help you got from {organization}, from {low} (not at all) to {high} (very)?",
    ("nps", "it"): _DONE["it"]
    + "Quanto consiglieresti {organization} a un amico o a un collega, da {low} (per niente) a {high} "
    "(sicuramente)?",
    ("nps", "en"): _DONE["en"]
    + "How likely are you to recommend {organization} to a friend or colleague, from {low} (not at all) to "
    "{high} (extremely)?",
    ("ces", "it"): _DONE["it"]
    + "Quanto è stato faticoso ottenere quello che ti serviva, da {low} (per niente) a {high} (moltissimo)?",
    ("ces", "en"): _DONE["en"]
    + "How much effort did it take to get what you needed, from {low} (very little) to {high} (a great deal)?",
}

HINTS = {
    "it": "Rispondi con un numero da {low} a {high}. Questo è un messaggio automatico.",
    "en": "Reply with a number from {low} to {high}. This is an automatic message.",
}

WHY = {
    "it": "Grazie! Ci dici con parole tue il motivo del tuo voto? Ci aiuta a migliorare.",
    "en": "Thank you! Could you tell us, in your own words, why you gave that score? It helps us improve.",
}

THANKS = {
    "it": "Grazie per la risposta.",
    "en": "Thank you for your answer.",
}


def tidy(text: str) -> str:
    """An unknown name leaves "Ciao ," behind: tidy the spaces before punctuation."""
    return re.sub(r"[ \t]+([,.!?;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


def question(kind: str, language: str, name: str, organization: str, low: int, high: int) -> str:
    values = {"name": name, "organization": organization or "", "low": str(low), "high": str(high)}
    return tidy(fill(QUESTIONS[(kind, language)], values))


def hint(language: str, low: int, high: int) -> str:
    return fill(HINTS[language], {"low": str(low), "high": str(high)})


# A score alone or at the start: "5", "5 grazie", "4/5", "10!"; not "voto 4", nor "4,5" (a decimal).
_SCORE = re.compile(r"^\s*(\d{1,2})(?:\s*(?:/|su|out of|of)\s*\d{1,2})?(?=$|[\s;:!?)\-]|[.,](?!\d))(.*)$", re.S | re.I)
# What follows a score and is no reason: thanks, greetings, the scale's words.
_FILLER = re.compile(
    r"^(grazie|mille|tante|molte|thanks?|thank|you|very|much|many|ok|okay|ciao|bye|saluti|buona|giornata|"
    r"serata|stelle|stella|stars?|punti|points?|voto|score|su|out|of|di|e|and|a|tutto|tutti|perfetto)$",
    re.I,
)


def after_score(text: str) -> str:
    """What a message says after the score it starts with, as written ("5 Grazie, tutto
    perfetto!" -> "Grazie, tutto perfetto!"); the text itself when it starts with none."""
    found = _SCORE.match(text)
    if found is None:
        return text
    return found.group(2).lstrip(" \t\n.,;:!?-)") or text


def parse_score(text: str, low: int, high: int) -> tuple[int, str] | None:
    """(score, what else the message says when it is a reason) for an answer that is a
    score in [low, high], alone or at the start; None for anything else."""
    found = _SCORE.match(text)
    if found is None:
        return None
    score = int(found.group(1))
    if not low <= score <= high:
        return None
    rest = found.group(2).strip(" \t\n.,;:!?-)")
    words = re.findall(r"\w+", rest)
    if all(_FILLER.match(word) for word in words):
        return score, ""
    return score, rest
