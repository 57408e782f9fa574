"""A draft as the coach reads it: tokens with their offsets, a surface line and a
lemma line to match patterns on, sentences, and the language.

Pure and fast (no Django): the whole coach must answer a 1,000-character draft in
well under 50 ms.

Both lines hold one entry per token separated by one space, lower case, with the
typographic apostrophe made plain: "Questa è la nostra policy." becomes
`questa è la nostra policy .` (surface) and `questo essere il nostro policy .`
(lemmas). In Italian an elided word keeps its apostrophe and stands alone
(`c' è`, `un' altra`); in English contractions stay whole (`don't`, `we're`).
A line break is the token `¶` (it ends a sentence like a full stop).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

import simplemma

LANGUAGES = ("it", "en")
APOSTROPHE = "\u2019"  # the typographic one, as phones and word processors write it
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_TOKEN = {
    "it": re.compile(rf"\w+['{APOSTROPHE}]|\w+|\n|[^\w\s]"),
    "en": re.compile(rf"\w+(?:['{APOSTROPHE}]\w+)*|\n|[^\w\s]"),
}
SENTENCE_END = {".", "!", "?", "¶", ";"}

# The commonest words of each language: a draft of a few words ("Questa è la nostra
# policy") fools a character-based detector because of one English loan word.
_STOP = {
    "it": frozenset(
        "il lo la i gli le un una uno di del della dei delle da dal dalla in nel nella con su per tra "
        "fra e è che non si ci mi ti vi ne questo questa quello quella sono siamo ho abbiamo ha hai "
        "lei suo sua tuo tua nostro nostra vostro mio mia come ma anche più se già ancora molto "
        "grazie buongiorno salve ciao gentile cordiali saluti scusi mi dispiace possiamo posso può "
        "sarà stato stata ordine domani oggi subito".split()
    ),
    "en": frozenset(
        "the a an of to in on at for with from by and or but is are was were be been have has had "
        "do does did not no this that these those it its we our you your i my me he she they them "
        "can will would could should please thanks thank hi hello sorry us there here what when "
        "how why just also very today tomorrow order we're you're it's i'm don't can't".split()
    ),
}


@dataclass(frozen=True)
class Token:
    text: str  # as written
    start: int
    end: int
    surface: str  # lower case, plain apostrophe
    lemma: str


@dataclass
class Draft:
    text: str
    language: str
    tokens: list[Token]
    surface: str = ""
    lemmas: str = ""
    # Where each token starts in the surface and lemma lines, for mapping matches back.
    _surface_at: list[int] = field(default_factory=list)
    _lemma_at: list[int] = field(default_factory=list)
    sentence_of: list[int] = field(default_factory=list)  # token index -> sentence number
    _padded: dict[str, str] = field(default_factory=dict, repr=False)

    def padded(self, line: str) -> str:
        """A space and the surface or lemma line: the patterns start with that space (a literal the
        regular-expression engine looks for quickly) instead of a look-behind (session 8)."""
        found = self._padded.get(line)
        if found is None:
            found = self._padded[line] = " " + (self.surface if line == "surface" else self.lemmas)
        return found

    def span(self, line: str, start: int, end: int) -> tuple[int, int, int, int] | None:
        """A match in a line -> (first token, last token, char start, char end) in the text."""
        at = self._surface_at if line == "surface" else self._lemma_at
        if not self.tokens or end <= start:
            return None
        first = bisect.bisect_right(at, start) - 1
        last = bisect.bisect_right(at, end - 1) - 1
        first, last = max(first, 0), max(last, 0)
        # A match that ends on the space before a token does not include it.
        while last > first and self.tokens[last].surface in SENTENCE_END:
            last -= 1
        return first, last, self.tokens[first].start, self.tokens[last].end

    def sentence_text(self, number: int) -> str:
        tokens = [t for t, s in zip(self.tokens, self.sentence_of, strict=True) if s == number]
        return self.text[tokens[0].start : tokens[-1].end] if tokens else ""

    def sentences(self) -> list[tuple[int, int, int]]:
        """(number, char start, char end) of every sentence that has a word in it."""
        spans: dict[int, list[int]] = {}
        for token, number in zip(self.tokens, self.sentence_of, strict=True):
            if token.surface in SENTENCE_END:
                continue
            spans.setdefault(number, [token.start, token.end])[1] = token.end
        return [(n, s, e) for n, (s, e) in spans.items()]

    def words(self) -> list[Token]:
        return [t for t in self.tokens if t.surface[:1].isalnum()]


def detect_language(text: str, default: str = "it") -> str:
    """`it` or `en`: function words first, then simplemma's detector."""
    words = re.findall(rf"\w+(?:['{APOSTROPHE}]\w+)*", text.lower())
    counts = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOP.items()}
    if counts["it"] != counts["en"] and max(counts.values()) >= 2:
        return max(counts, key=lambda lang: counts[lang])
    if not words:
        return default
    best, score = simplemma.langdetect(text, lang=LANGUAGES)[0]
    return best if best in LANGUAGES and score >= 0.5 else default


@lru_cache(maxsize=50_000)
def lemma(word: str, language: str) -> str:
    if not word[:1].isalpha():
        return word
    try:
        return str(simplemma.lemmatize(word, lang=language)).lower()
    except ValueError:
        return word


def _surface(word: str, language: str) -> str:
    word = word.lower().replace(APOSTROPHE, "'")
    if language == "it" and word == "e'":
        return "è"  # typed without the accent key
    return "¶" if word == "\n" else word


def read(text: str, language: str) -> Draft:
    """Tokenise `text` (URLs are one token `<url>`) and build both lines."""
    if language not in LANGUAGES:
        language = "it"
    pattern = _TOKEN[language]
    tokens: list[Token] = []
    position = 0
    for url in [*URL.finditer(text), None]:
        stop = url.start() if url else len(text)
        for m in pattern.finditer(text, position, stop):
            surface = _surface(m.group(), language)
            tokens.append(Token(m.group(), m.start(), m.end(), surface, lemma(surface, language)))
        if url:
            tokens.append(Token(url.group(), url.start(), url.end(), "<url>", "<url>"))
            position = url.end()
    draft = Draft(text=text, language=language, tokens=tokens)
    surface_parts, lemma_parts = [], []
    s_pos = l_pos = 0
    sentence = 0
    for token in tokens:
        draft._surface_at.append(s_pos)
        draft._lemma_at.append(l_pos)
        surface_parts.append(token.surface)
        lemma_parts.append(token.lemma)
        s_pos += len(token.surface) + 1
        l_pos += len(token.lemma) + 1
        draft.sentence_of.append(sentence)
        if token.surface in SENTENCE_END:
            sentence += 1
    draft.surface = " ".join(surface_parts)
    draft.lemmas = " ".join(lemma_parts)
    return draft
