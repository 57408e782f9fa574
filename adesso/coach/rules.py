"""The coach's rules as data: the built-in ones (rules/builtin.yaml, rules/practice.yaml)
and an organisation's own, compiled once into matchers. Pure: no Django models here
(an organisation's rules arrive as plain `OrgRuleData`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from adesso.coach.text import LANGUAGES, Draft, lemma

RULES_DIR = Path(__file__).parent / "rules"
SEVERITIES = ("serious", "warning")
_GAP = re.compile(r"\{gap(\d?)\}")


class RuleError(ValueError):
    """A rule that cannot be compiled (a bad regular expression, an unknown language)."""


@dataclass(frozen=True)
class Pattern:
    """One way of saying it: a regular expression on the surface or lemma line."""

    source: str
    regex: re.Pattern[str]
    line: str  # "surface" or "lemmas"
    weak: bool = False  # fine when the reply owns the fix
    # The same expression starting with a space, matched on Draft.padded(line): a regular
    # expression that starts with a literal is scanned for much faster than one that starts with
    # a look-behind (session 8: 40% of the patterns' time). None when it cannot be rewritten.
    fast: re.Pattern[str] | None = None

    def finditer(self, draft: Draft) -> Iterable[re.Match[str]]:
        return self.regex.finditer(draft.surface if self.line == "surface" else draft.lemmas)

    def spans(self, draft: Draft) -> Iterator[tuple[int, int]]:
        """(start, end) of every match in the draft's line, as `finditer` finds them."""
        if self.fast is None:
            for m in self.finditer(draft):
                yield m.start(), m.end()
            return
        for m in self.fast.finditer(draft.padded(self.line)):
            yield m.start(), m.end() - 1


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    label: dict[str, str]
    reason: dict[str, str]
    suggestion: dict[str, str]
    patterns: dict[str, tuple[Pattern, ...]]
    unless: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    builtin: bool = True
    # per language: the finding is dropped when one of these matches after it, in the
    # rest of the reply (a refusal followed by what can be done instead)
    unless_after: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    # per language: the finding is dropped when one of these matches anywhere in the reply
    # (session 8: a link to the customer's own tracking page, asked about in another sentence)
    unless_reply: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)

    def text(self, what: str, language: str) -> str:
        values: dict[str, str] = getattr(self, what)
        return values.get(language) or values.get("en") or next(iter(values.values()), "")


def compile_pattern(source: str) -> Pattern:
    """`[weak: ][lemma: ]regex` -> Pattern. Raises RuleError for a bad expression."""
    text, weak, line = source.strip(), False, "surface"
    if text.startswith("weak:"):
        text, weak = text[5:].strip(), True
    if text.startswith("lemma:"):
        text, line = text[6:].strip(), "lemmas"
    body = _GAP.sub(lambda m: rf" (?:[^ .!?;¶]+ ){{0,{m.group(1) or 3}}}", text)
    try:
        # A pattern starts where a token starts; it may end inside one (stems).
        regex = re.compile(rf"(?<![^ ])(?:{body})")
    except re.error as exc:
        raise RuleError(f"{source!r}: {exc}") from None
    return Pattern(source=source, regex=regex, line=line, weak=weak, fast=_fast(body))


def _fast(body: str) -> re.Pattern[str] | None:
    """`body` after a space, for a line with a space in front (Draft.padded): "(?:^|" becomes
    "(?:(?<=^ )|"; a body with another "^" (an anchor elsewhere) keeps the look-behind form."""
    padded = body.replace("(?:^|", "(?:(?<=^ )|")
    if "^" in padded.replace("[^", "").replace("\\^", "").replace("(?<=^ )", ""):
        return None
    try:
        return re.compile(f" (?:{padded})")
    except re.error:
        return None


def compile_regexes(sources: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(compile_pattern(s).regex for s in sources)


def _per_language(data: Any, what: str, rule_id: str) -> dict[str, list[str]]:
    if not data:
        return {}
    if not isinstance(data, dict) or any(lang not in LANGUAGES for lang in data):
        raise RuleError(f"{rule_id}.{what}: expected a mapping of {', '.join(LANGUAGES)}")
    return {lang: list(values or []) for lang, values in data.items()}


def build_rule(rule_id: str, data: dict[str, Any], builtin: bool = True) -> Rule:
    severity = data.get("severity", "serious")
    if severity not in SEVERITIES:
        raise RuleError(f"{rule_id}: severity must be one of {SEVERITIES}")
    patterns = {
        lang: tuple(compile_pattern(p) for p in values)
        for lang, values in _per_language(data.get("patterns"), "patterns", rule_id).items()
    }
    unless = {
        lang: compile_regexes(values)
        for lang, values in _per_language(data.get("unless"), "unless", rule_id).items()
    }
    unless_after = {
        lang: compile_regexes(values)
        for lang, values in _per_language(data.get("unless_after"), "unless_after", rule_id).items()
    }
    unless_reply = {
        lang: compile_regexes(values)
        for lang, values in _per_language(data.get("unless_reply"), "unless_reply", rule_id).items()
    }
    examples = {
        lang: tuple(values)
        for lang, values in _per_language(data.get("examples"), "examples", rule_id).items()
    }
    return Rule(
        id=rule_id, severity=severity, label=dict(data.get("label") or {}),
        reason=dict(data.get("reason") or {}), suggestion=dict(data.get("suggestion") or {}),
        patterns=patterns, unless=unless, examples=examples, builtin=builtin, unless_after=unless_after,
        unless_reply=unless_reply,
    )


@cache
def builtin_rules() -> tuple[Rule, ...]:
    data = yaml.safe_load((RULES_DIR / "builtin.yaml").read_text(encoding="utf-8"))
    return tuple(build_rule(rule_id, spec) for rule_id, spec in data.items())


BUILTIN_IDS = (
    "policy", "contract", "link_deflection", "blame_supplier", "blame_customer", "not_here",
    "doing_my_best", "queue_excuse", "not_special", "busy", "politics_religion", "rudeness",
    "refusal", "referral",
)


@dataclass(frozen=True)
class Check:
    """A good practice the draft is scored on."""

    id: str
    label: dict[str, str]
    hint: dict[str, str]
    patterns: dict[str, tuple[Pattern, ...]]
    boilerplate: dict[str, tuple[Pattern, ...]]
    commitment: dict[str, tuple[Pattern, ...]]

    def text(self, what: str, language: str) -> str:
        values: dict[str, str] = getattr(self, what)
        return values.get(language) or values.get("en", "")


@dataclass(frozen=True)
class Practice:
    checks: dict[str, Check]
    mistake: dict[str, tuple[Pattern, ...]]
    negative: dict[str, tuple[str, ...]]
    positive: dict[str, tuple[str, ...]]


def _compiled(data: Any, what: str) -> dict[str, tuple[Pattern, ...]]:
    return {
        lang: tuple(compile_pattern(p) for p in values)
        for lang, values in _per_language(data, what, "practice").items()
    }


@cache
def practice() -> Practice:
    data = yaml.safe_load((RULES_DIR / "practice.yaml").read_text(encoding="utf-8"))
    checks = {
        check_id: Check(
            id=check_id, label=spec.get("label", {}), hint=spec.get("hint", {}),
            patterns=_compiled(spec.get("patterns"), check_id),
            boilerplate=_compiled(spec.get("boilerplate"), check_id),
            commitment=_compiled(spec.get("commitment"), check_id),
        )
        for check_id, spec in data["checks"].items()
    }
    context = data["context"]
    return Practice(
        checks=checks,
        mistake=_compiled(context["mistake"], "mistake"),
        negative={lang: tuple(words) for lang, words in context["negative"].items()},
        positive={lang: tuple(words) for lang, words in context["positive"].items()},
    )


@dataclass(frozen=True)
class OrgRuleData:
    """An organisation's rule as the engine needs it (see coach.models.CoachRule)."""

    pattern: str  # its own id, or a built-in id to add phrases to
    language: str
    phrases: Sequence[str]
    reason: str = ""
    suggestion: str = ""
    severity: str = "serious"


def phrase_pattern(phrase: str, language: str) -> str:
    """A plain phrase an admin typed -> a pattern on the lemma line, so "ci vuole pazienza"
    also matches "ci vorrà pazienza". Up to one extra word may sit between two words."""
    from adesso.coach.text import read

    words = [t.lemma for t in read(phrase, language).tokens if t.surface[:1].isalnum()]
    if not words:
        raise RuleError(f"{phrase!r}: no words")
    return "lemma: " + r" (?:[^ .!?;¶]+ )?".join(re.escape(w) for w in words) + r"(?![^ ])"


def org_rules(items: Sequence[OrgRuleData]) -> tuple[Rule, ...]:
    """An organisation's rules as engine rules. Phrases for a built-in id extend it (its
    reason and suggestion apply unless the organisation wrote its own)."""
    builtin = {r.id: r for r in builtin_rules()}
    rules = []
    for item in items:
        base = builtin.get(item.pattern)
        patterns = {item.language: tuple(compile_pattern(phrase_pattern(p, item.language)) for p in item.phrases)}
        reason = {item.language: item.reason} if item.reason else {}
        suggestion = {item.language: item.suggestion} if item.suggestion else {}
        if base:
            reason = {**base.reason, **reason}
            suggestion = {**base.suggestion, **suggestion}
        rules.append(Rule(
            id=item.pattern, severity=item.severity,
            label=base.label if base else {lang: item.pattern for lang in LANGUAGES},
            reason=reason, suggestion=suggestion, patterns=patterns,
            unless=base.unless if base else {}, builtin=False,
            unless_after=base.unless_after if base else {},
            unless_reply=base.unless_reply if base else {},
        ))
    return tuple(rules)


def lemmas_of(words: Iterable[str], language: str) -> set[str]:
    return {lemma(w.lower(), language) for w in words}
