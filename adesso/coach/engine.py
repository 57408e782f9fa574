"""The reply coach: what in a draft customers never want to hear, why, a better way to
say it, and a score for what good replies do. Pure and fast, no Django, no network.

Layers, each explainable (every finding names its rule and the words):
1. patterns: regular expressions on the draft's words and lemmas (rules/builtin.yaml,
   plus an organisation's own rules);
2. shapes: a reply that is mostly a link; shouting (capitals, "!!!");
3. similarity (`adesso.coach.similarity`, passed in by the caller): a sentence close
   in meaning to a rule's example sentences, to catch paraphrases no pattern names;
4. learned (`adesso.coach.learned`, passed in by the caller): a classifier on sentence
   embeddings, one probability per rule and sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from adesso.coach.rules import Check, Pattern, Rule, builtin_rules, practice
from adesso.coach.text import LANGUAGES, SENTENCE_END, URL, Draft, detect_language, read

MAX_CHARS = 20_000
# The highest score a reply with a serious finding can have (see Report.total).
SERIOUS_CEILING = 49  # drafts beyond this are coached on their first MAX_CHARS characters
# A link with fewer words than this around it is a link instead of an answer.
LINK_ONLY_WORDS = 12
# A "find it here" sentence is fine when the rest of the reply explains this much.
EXPLAINED_WORDS = 15
# A link-only reply that asks the customer for something (a DM, a form) is not a deflection.
_ASKS = re.compile(
    r"\b(?:dm|dms|direct message|private message|messaggio privato|in privato|in direct|tell us|let us know|"
    r"send us|reply|provide|fill|share|feedback|ci dica|ci scriva|ci invii|ci mandi|scrivici|inviaci|mandaci|"
    r"compili|compila|indicaci|ci indichi)\b", re.I
)
# ...and one with a few words is a deflection when they point at the link.
_POINTER = re.compile(
    r"\b(?:info|information|details|link|check|visit|see|faq|faqs|learn|read|answer|"
    r"informazioni|dettagli|guida|consulti|consulta|trova|trovi|veda|vedi|pagina|risposta|sito)\b", re.I
)
# ...unless the link is the customer's own thing: a tracking page, a label, an invoice.
_OWN_LINK = re.compile(
    r"\b(?:track|tracking|tracciamento|traccia|label|etichetta|invoice|fattura|receipt|ricevuta|voucher|buono|"
    r"boarding pass|carta d'imbarco|reset|password|refund form|modulo di rimborso)\b", re.I
)
_ACRONYMS = frozenset(
    "DM DMS FAQ FAQS PDF IBAN SMS USB WIFI ADSL VDSL IVA SPID PIN PUK OK TV PC IT USA UK EU UE ID URL "
    "CEO VIP GDPR API APP IOS PNR ETA ASAP FYI CAP CF NB PS PPS HTTP HTTPS WWW RMA SKU IMEI SIM ESIM "
    "ATM GPS LTE ISP DHL UPS TNT GLS BRT SDA USPS FEDEX EST PST GMT UTC CET AM PM NY NYC LA SF".split()
)
# Greetings, thanks, offers to help, apologies, "let me know how it goes", sign-offs: what a reply says
# around a link without explaining anything (`_explained`), on the surface line (lower case, tokens
# spaced), each phrase between spaces.
_COURTESY = {
    "en": re.compile(
        r"(?<= )(?:(?:hi|hello|hey|hiya|greetings|good (?:morning|afternoon|evening|day)|dear)"
        r"(?: there| all| again)?"
        r"|(?:many |big )?thanks?(?: you)?(?: so much| very much| again| kindly)?"
        r"(?: for (?:reaching out|getting in touch|contacting us|tweeting"
        r"|the (?:tag|info|information|details|update|heads up)"
        r"|your (?:tweet|patience|message|reply|question|understanding))(?: to us| with us)?)?"
        r"|(?:i|we)(?:'d| would|'re| are|'m| am)? (?:love|like|be glad|be happy|be more than happy|happy|glad|here)"
        r" to (?:help|assist)(?: you)?(?: out)?(?: with (?:this|that))?"
        r"|(?:(?:we're|we are|i'm|i am) )?(?:so |really |very |truly )?sorry"
        r" (?:to hear (?:about )?(?:this|that)|about (?:this|that)"
        r"|for the (?:trouble|inconvenience|wait|delay|late reply))"
        r"|(?:my |our )?(?:sincere )?apologies(?: for (?:the|any) (?:trouble|inconvenience|wait|delay))?"
        r"|(?:please )?(?:let|keep) (?:me|us) (?:know|posted)"
        r"(?: (?:how (?:it|that|this) (?:goes|went)|if (?:it|this|that) (?:helps|works|worked)|the outcome"
        r"|if you need anything else|if you have any (?:other |more |further )?questions))?"
        r"|(?:i )?hope (?:this|that|it) helps|have a (?:great|nice|good|lovely) (?:day|evening|weekend)|take care"
        r"|welcome to (?:the )?[^ ]+ (?:support|care|help)(?: on [^ ]+)?"
        r"|we've got your back|glad to help|happy to help"
        # session 10, later: a commitment or a priority stated ("X is committed to helping customers …",
        # "the safety of our customers is our top priority") explains nothing either
        r"|(?:is|are|remains|remain|'re) (?:fully |deeply |truly |always )?committed to [^.!?¶]*"
        r"|(?:is|are|remains|remain) (?:our|a) (?:top |first |number one |highest )?priorit(?:y|ies)"
        r"|(?:sure|of course|absolutely|certainly) (?:we|i) can (?:help|assist)(?: you)?"
        r"|(?:we're|we are) here for you(?: too)?"
        # session 9, last: offers of further help, a restatement of the customer's problem and a pointer
        # into the link explain nothing ("if you need further assistance", "give us a shout if you have any
        # other questions", "I understand you are asked to sign in thrice…", "you can find the steps under …")
        r"|(?:we're |we are |i'm |i am )?here to (?:help|assist)(?: you)?"
        r"|if you (?:need|require|want) (?:any )?(?:further |more |additional |extra |other )?"
        r"(?:help|assistance|support)"
        r"(?: with (?:this|that|anything else))?"
        r"|give us a (?:shout|holler|shout-out)"
        r"(?: if you (?:have|need) any(?:thing)? (?:other |more |further |else)?(?:questions)?)?"
        r"|for anything else|(?:we'll|we will) be here for anything else"
        r"|(?:i|we) (?:understand|see|hear) (?:that )?(?:you(?:'re| are| have|'ve)?|your) [^.!?¶]*"
        r"|(?:(?:i'm|i am|we're|we are) )?(?:so |really |very )?sorry (?:that )?you(?:'re| are)"
        r" (?:having|experiencing|facing|dealing with) [^.!?¶]*"
        r"|(?:you(?:'ll| will| can)? )?find (?:the )?(?:steps|instructions|answer|details|info|information)"
        r" (?:under|in the section|below) [^.!?¶]*"
        r")(?= )"
    ),
    "it": re.compile(
        r"(?<= )(?:(?:buongiorno|buonasera|salve|ciao|gentile cliente|gentile signor[ae]?)"
        r"|(?:la |ti )?ringrazi(?:o|amo|o molto|amo molto)?"
        r"(?: per (?:averci contattat[oi]|la segnalazione|la pazienza|il messaggio))?"
        r"|grazie(?: mille| ancora)?(?: per (?:averci contattat[oi]|la segnalazione|la pazienza|il messaggio))?"
        r"|(?:sono|siamo) (?:qui |felic[ei] )?(?:per |di )?aiutarla"
        r"|(?:mi|ci) dispiace(?: molto)?(?: per (?:il|l') (?:disagio|inconveniente|attesa))?"
        r"|ci scusiamo per (?:il|l') (?:disagio|inconveniente|attesa|ritardo)"
        r"|(?:mi|ci) (?:faccia|fai) sapere(?: (?:come va|se (?:funziona|risolve|ha risolto)))?"
        r"|spero (?:sia|di esserle stat[oa]) utile|buona giornata|buona serata|cordiali saluti"
        r"|se (?:ha|hai|avete) bisogno di (?:ulteriore |altro |altra )?(?:aiuto|assistenza|supporto)"
        r"|(?:siamo|resto|restiamo|rimango|rimaniamo) (?:qui )?a (?:sua |tua |vostra )?(?:completa )?disposizione"
        r"|(?:capisco|comprendo|capiamo|comprendiamo) (?:che|il (?:suo|tuo) (?:problema|disagio)) [^.!?¶]*"
        r"|(?:mi|ci) dispiace che (?:lei |tu )?(?:abbia|stia avendo|riscontri) [^.!?¶]*)(?= )"
    ),
}
_CAPS_WORD = re.compile(r"\b[A-ZÀ-Ý]{2,}\b")
_BANGS = re.compile(r"[!?]*!{3,}[!?]*|(?:\?!|!\?){2,}")


@dataclass
class Finding:
    pattern: str
    start: int
    end: int
    reason: str
    suggestion: str
    severity: str
    label: str = ""
    words: str = ""  # the flagged words, as written
    rule: str = ""  # which rule matched: "pattern: <regex>", "shape: ...", "similar to: ..."
    layer: str = "pattern"
    # The rewrite replaces the whole sentence(s) holding the flagged words, text[replace_start:
    # replace_end], never the words alone (a half-replaced sentence can say the opposite).
    replace_start: int = 0
    replace_end: int = 0


@dataclass
class CheckResult:
    id: str
    label: str
    met: bool
    expected: bool
    hint: str = ""
    words: str = ""


@dataclass
class Context:
    """What the conversation tells the coach (all optional)."""

    customer_language: str = ""
    customer_messages: Sequence[str] = ()  # the customer's latest messages, oldest first
    tier: str = ""  # standard, loyal, vip
    name: str = ""


@dataclass
class Report:
    language: str
    findings: list[Finding]
    checks: list[CheckResult]
    context: dict[str, Any] = field(default_factory=dict)
    # Less certain than findings: the shipped learned layer's (severity "hint", session 7),
    # shown as "maybe" at most; neither scored nor asked about on send.
    hints: list[Finding] = field(default_factory=list)

    @property
    def serious(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "serious"]

    @property
    def total(self) -> int:
        """0-100: the share of expected good practices met, less 15 per serious finding
        and 5 per warning, scaled into 50-100 for a reply without a serious finding and
        into 0-49 for one with. Monotonic in what matters most: a reply without a serious
        finding scores SERIOUS_CEILING + 1 or more, one with a serious finding at most
        SERIOUS_CEILING, whatever else either does."""
        expected = [c for c in self.checks if c.expected]
        base = 100 * sum(c.met for c in expected) / len(expected) if expected else 100
        penalty = 15 * len(self.serious) + 5 * (len(self.findings) - len(self.serious))
        raw = max(0.0, min(100.0, base - penalty))
        if self.serious:  # 0..49
            return min(SERIOUS_CEILING, round(raw * SERIOUS_CEILING / 100))
        return SERIOUS_CEILING + 1 + round(raw * (99 - SERIOUS_CEILING) / 100)  # 50..100

    def as_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "findings": [asdict(f) for f in self.findings],
            "hints": [asdict(f) for f in self.hints],
            "score": {
                "total": self.total,
                "checks": [asdict(c) for c in self.checks],
                "context": self.context,
            },
        }


# Session 10: a pointing sentence that sends the customer to the steps, the how-to, the instructions,
# or names the goal first ("to install it, follow: <link>"), on the surface line...
_FOR_HOW = {
    "en": re.compile(
        r" (?:steps?|instructions?|how(?= (?:to|here|you|it|this|that|[:.])\b)|troubleshooting|troubleshoot"
        r"|tips|walkthrough|procedure|guide(?! (?:may|might|could|should|will) also\b)"
        r"|(?:(?<=^ )|(?<= , )|(?<= \. ))(?:in order )?to (?:fix|resolve|solve|install|set up|remove|change|enable"
        r"|disable|reset|recover|restore|update|uninstall|reinstall|repair)(?: [^,:.!?]{1,60})? (?:,|:)"
        # session 10, later: a step of the customer's with its link after a colon ("for now, you will need
        # to manually remove the user: <link>"), not a pointer ("you can find the details here: <link>")
        r"|(?:try|need to|have to|should)"
        r" (?!(?:find|see|view|read|check|learn|visit|look|get|access) )[^.!?:]{1,80} : <url>)(?= )"
    ),
    "it": re.compile(
        r" (?:passaggi|passi|istruzioni|procedura|come (?:fare|procedere|si fa|risolvere|impostare|configurare)"
        r"|guida(?! (?:può|potrebbe) anche\b)|suggerimenti"
        r"|(?:(?<=^ )|(?<= , )|(?<= \. ))per (?:risolver|sistemar|installar|reinstallar|configurar|ripristinar"
        r"|reimpostar|cambiar|modificar|attivar|disattivar)[^ ]*(?: [^,:.!?]{1,60})? (?:,|:)"
        r"|(?:provi a|provare a|deve|dovrà|dovrebbe|occorre)"
        r" (?!(?:trovare|vedere|leggere|consultare|visitare|guardare|controllare) )[^.!?:]{1,80} : <url>)(?= )"
    ),
}
# ...unless it is a link for more beside an answer ("learn more about it here", "more details:", "this
# guide may also help"), or the agent goes through the steps with the customer ("we'll be going over
# the steps on this page").
_FOR_MORE = {
    "en": re.compile(
        r" (?:(?:more|additional|further)(?! (?:steps|troubleshooting|tips|instructions)\b)|details|also help"
        r"|for actions|our efforts|full|complete|if needed|if you need it"
        r"|(?:has|have|with) (?:the )?(?:pictures|screenshots|images|photos)"
        r"|if you need (?:them|one|those|these)"
        r"|(?:we|we'll|we will|i'll|i will|let's|let us) (?:be )?(?:go|going|walk|walking|work|working) "
        r"(?:over|through))(?= )"
    ),
    "it": re.compile(
        r" (?:maggiori|ulteriori(?! (?:passaggi|passi|istruzioni|suggerimenti)\b)|altre informazioni|dettagli"
        r"|approfondire|saperne di più|anche utile|complet[ao]"
        r"|se serve|se le serve|se necessario|con (?:le )?(?:immagini|foto|schermate)"
        r"|(?:vediamo|li vediamo|lo vediamo) insieme)(?= )"
    ),
}
# Where to look for what the agent asks: "you can find this information here", "lo trova qui".
_WHERE_TO_LOOK = {
    "en": re.compile(r" (?:find|see|view|check|locate|look up) (?:this|that|these|those) (?:info|information|details"
                     r"|number|numbers|name|code)(?= )"),
    "it": re.compile(r" (?:trova|trovi|vede|veda|controlla|controlli) (?:questa|questo|queste|questi|quest') ?"
                     r"(?:informazion[ei]|dettagli|numero|numeri|nome|codice)(?= )"),
}
# The rest of the reply gives the steps itself: a menu path ("settings > account"), numbered steps.
_STEPS_GIVEN = re.compile(r" [^ ]+ > [^ ]+ | (?:1|2|3) \)| step (?:1|2|one|two) | passo (?:1|2|uno|due) ")
# Session 10, later: where a link goes. A contact page, a request or ticket form, a feedback, idea or
# bug board is another channel to start again on, whatever words send the customer there ("1) Click on
# this link - <contact page> 2) Select the product", "share a few details here <form>", "feel free to
# file any bugs here: <board>"): a referral, and not also a deflection.
_HANDOFF_ADDRESS = re.compile(
    r"contact|requests?/new|submit_?request|/tickets?\b|uservoice|feedback|ideas?[_-]?submission|feature[_-]?request"
    r"|support/email|phone[_-]?numbers|customer[_-]?service|live[_-]?chat|contatt|segnalazion|reclam", re.I
)
_HELP_ARTICLE = "shape: a link to a help article, the reply explains nothing else"
# ...and the sentence of the link points at it ("this known issue: <link>", "try these: <link>").
_POINTS_AT = {
    "en": re.compile(r" (?:this|these|those|the following|here|below|article|guide|faq|known issue)(?= )"),
    "it": re.compile(r" (?:questo|questa|questi|queste|il seguente|la seguente|qui|sotto|articolo|guida|faq"
                     r"|problema noto)(?= )"),
}
# A help article: the knowledge base's address.
_HELP_ADDRESS = re.compile(r"/(?:answer|answers|articles?|kb|faq|faqs|hc/[a-z-]+/articles|help/\d|troubleshoot\w*"
                           r"|guide)\b|helpx\.|/sln\d|/HT\d{4,}", re.I)
# ...unless the link is to follow what the agent owns ("track the progress on this issue …").
_FOLLOW_OWN = re.compile(r"\b(?:track|monitor|follow|check) (?:the )?(?:progress|status|updates?)\b|\b(?:segua|seguire|"
                         r"monitorare|controllare) (?:l' )?(?:avanzamento|stato)\b", re.I)
# A referral's words that name the contact ("contact them: <link>", "chat with us here: <link>").
_CONTACT_WORDS = re.compile(r"\b(?:contact|reach|call|chat|phone|ring|speak|talk|get in touch|contatt|chiam|telefon"
                            r"|scriv|parl)", re.I)
Similarity = Callable[[Draft, Sequence[Rule], set[int], str], list[Finding]]
# (draft, rules, (sentence number, rule id) already found, ui language) -> findings
Learned = Callable[[Draft, Sequence[Rule], set[tuple[int, str]], str], list[Finding]]


def coach(
    text: str, language: str | None = None, context: Context | None = None,
    rules: Sequence[Rule] = (), ui_language: str = "en", similarity: Similarity | None = None,
    learned: Learned | None = None,
) -> Report:
    """Coach one draft. `language` is the draft's (detected when None); reasons and
    labels are in `ui_language`, suggestions in the draft's language; `rules` are an
    organisation's own, added to the built-in ones."""
    context = context or Context()
    text = text[:MAX_CHARS]
    default = context.customer_language if context.customer_language in LANGUAGES else "it"
    if language not in LANGUAGES:
        language = detect_language(text, default)
    ui = ui_language if ui_language in LANGUAGES else "en"
    draft = read(text, language)
    all_rules = (*builtin_rules(), *rules)
    reading = customer_reading(context)
    checks = _checks(draft, context, reading, ui)
    # A supplier's slip stated with an apology or a fix is a fact, not blame.
    owned = any(c.met for c in checks if c.id in ("ownership", "next_step", "apology"))
    findings = _one_reading_per_link(
        draft, [*_pattern_findings(draft, all_rules, owned, ui), *_shape_findings(draft, all_rules, ui)])
    hints: list[Finding] = []
    if similarity is not None or learned is not None:
        found = {(draft.sentence_of[i], f.pattern) for f in findings for i, t in enumerate(draft.tokens)
                 if f.start <= t.start < f.end}
        if learned is not None:  # first: it embeds the new sentences the similarity layer reuses
            for f in learned(draft, all_rules, found, ui):
                (hints if f.severity == "hint" else findings).append(f)
        if similarity is not None:
            covered = {number for number, _rule in found}
            findings += [f for f in similarity(draft, all_rules, covered, ui)
                         if not any(g.pattern == f.pattern and g.start < f.end and f.start < g.end
                                    for g in findings)]
    findings = _merge(findings)
    hints = [h for h in _merge(hints) if not any(g.pattern == h.pattern and g.start < h.end and h.start < g.end
                                                 for g in findings)]
    for f in (*findings, *hints):
        _whole_sentences(draft, f, all_rules, learned)
    return Report(language=language, findings=findings, checks=checks,
                  context=_context_summary(context, reading), hints=hints)


def _whole_sentences(draft: Draft, finding: Finding, rules: Sequence[Rule], learned: Learned | None = None) -> None:
    """Widen the rewrite to the sentences holding the finding, and offer it only when the
    coach itself (with the learned layer, when given) finds nothing in the rewritten sentence."""
    start, end = finding.start, finding.end
    for _number, s, e in draft.sentences():
        if s < finding.end and finding.start < e:
            start, end = min(start, s), max(end, e)
    finding.replace_start, finding.replace_end = start, end
    if finding.suggestion and not suggestion_is_clean(finding.suggestion, draft.language, rules, learned):
        finding.suggestion = ""


def suggestion_is_clean(suggestion: str, language: str, rules: Sequence[Rule] = (),
                        learned: Learned | None = None) -> bool:
    """A rewrite the coach would flag (with the built-in and these rules, and the learned
    layer when given) is not offered."""
    own = tuple(r for r in rules if not r.builtin)
    if not _clean(suggestion, language) or (own and not _clean_with(suggestion, language, own)):
        return False
    if learned is not None:
        return not learned(read(suggestion[:MAX_CHARS], language), (*builtin_rules(), *own), set(), "en")
    return True


@lru_cache(maxsize=1024)
def _clean(suggestion: str, language: str) -> bool:
    return _clean_with(suggestion, language, ())


def _clean_with(suggestion: str, language: str, own: Sequence[Rule]) -> bool:
    draft = read(suggestion[:MAX_CHARS], language)
    rules = (*builtin_rules(), *own)
    return not _pattern_findings(draft, rules, False, "en") and not _shape_findings(draft, rules, "en")


def warm_up() -> None:
    """Compile the rules and load both languages' lemma dictionaries (~0.5 s, once per
    process), so that an agent's first check is as fast as the next ones."""
    from adesso.coach.text import lemma

    builtin_rules()
    practice()
    for word, language in (("essere", "it"), ("be", "en")):
        lemma(word, language)


def _finding(rule: Rule, draft: Draft, start: int, end: int, ui: str, how: str, layer: str,
             severity: str | None = None) -> Finding:
    return Finding(
        pattern=rule.id, start=start, end=end, reason=rule.text("reason", ui),
        suggestion=rule.text("suggestion", draft.language), severity=severity or rule.severity,
        label=rule.text("label", ui), words=draft.text[start:end], rule=how, layer=layer,
    )


def _pattern_findings(draft: Draft, rules: Sequence[Rule], owned: bool, ui: str) -> list[Finding]:
    found = []
    for rule in rules:
        if any(u.search(draft.surface) for u in rule.unless_reply.get(draft.language, ())):
            continue
        for pattern in rule.patterns.get(draft.language, ()):
            if pattern.weak and owned:
                continue
            for match_start, match_end in pattern.spans(draft):
                span = draft.span(pattern.line, match_start, match_end)
                if span is None:
                    continue
                first, last, start, end = span
                sentence = _sentence_line(draft, first, last)
                if any(u.search(sentence) for u in rule.unless.get(draft.language, ())):
                    continue
                after = " ".join(t.surface for t in draft.tokens[last + 1 :])
                if any(u.search(after) for u in rule.unless_after.get(draft.language, ())):
                    continue
                if rule.id == "link_deflection" and _explained(draft, first, last):
                    continue
                found.append(_finding(rule, draft, start, end, ui, _how(pattern), "pattern"))
    return found


def _how(pattern: Pattern) -> str:
    return f"{'lemmas' if pattern.line == 'lemmas' else 'words'}: {pattern.source}"


def _sentence_line(draft: Draft, first: int, last: int) -> str:
    """The surface line of the sentences spanning tokens first..last."""
    numbers = {draft.sentence_of[first], draft.sentence_of[last]}
    lo, hi = min(numbers), max(numbers)
    return " ".join(t.surface for t, s in zip(draft.tokens, draft.sentence_of, strict=True) if lo <= s <= hi)


def _explained(draft: Draft, first: int, last: int) -> bool:
    """Does the reply explain, beyond the "find it here" sentence?"""
    # Session 10, later: a pattern that starts on the previous sentence's full stop (". For more info
    # visit <link>") points from the next sentence: the answer before it is the rest of the reply.
    while (first < last and draft.tokens[first].surface in SENTENCE_END
           and draft.sentence_of[first] < draft.sentence_of[last]):
        first += 1
    numbers = {draft.sentence_of[first], draft.sentence_of[last]}
    # Session 10: what the pointing sentence sends the customer to read decides first. A link for how
    # (the steps, the instructions, "check out how here", "to fix it, follow: <link>") is the answer
    # itself behind the link, whatever the rest says, unless the rest gives the steps (a menu path,
    # numbered steps). A link for more ("learn more", "more info", "this guide may also help") goes
    # with an answer when the rest of the reply gives one (the count of words below).
    pointing = _sentence_line(draft, first, last)
    language = draft.language if draft.language in _FOR_HOW else "en"
    rest = " ".join(t.surface for t, s in zip(draft.tokens, draft.sentence_of, strict=True) if s not in numbers)
    if _STEPS_GIVEN.search(" " + rest + " "):
        return True
    if _FOR_HOW[language].search(" " + pointing + " ") and not _FOR_MORE[language].search(" " + pointing + " "):
        return False
    # A question ("Was this shipped by us or a seller?") asks, it does not explain.
    questions = {s for t, s in zip(draft.tokens, draft.sentence_of, strict=True) if t.surface == "?"}
    # Session 10, later: ...but a link that shows where to find what the agent has just asked for ("Who's
    # the carrier on your order? You can find this information here: <link>") answers nothing away.
    if questions - numbers and _WHERE_TO_LOOK[language].search(" " + pointing + " "):
        return True
    lines: dict[int, list[str]] = {}
    for t, s in zip(draft.tokens, draft.sentence_of, strict=True):
        if s not in numbers and s not in questions:
            lines.setdefault(s, []).append(t.surface)
    # Courtesy explains nothing (session 9): a link wrapped in "hi there, thanks for reaching out,
    # I'd love to help … let me know how that goes" is still a link instead of the answer.
    words = 0
    for tokens in lines.values():
        line = _COURTESY.get(draft.language, _COURTESY["en"]).sub(" ", " " + " ".join(tokens) + " ")
        words += sum(1 for w in line.split() if w[:1].isalnum())
    return words >= EXPLAINED_WORDS


def _shape_findings(draft: Draft, rules: Sequence[Rule], ui: str) -> list[Finding]:
    by_id = {r.id: r for r in rules if r.builtin}
    found = []
    urls = list(URL.finditer(draft.text))
    if urls and not _ASKS.search(draft.text) and not _OWN_LINK.search(draft.text):
        words = [t for t in draft.words() if t.surface != "<url>" and not _is_handle(draft.text, t)
                 and not t.surface.isdigit()]
        at = next((i for i, t in enumerate(draft.tokens) if t.start == urls[0].start()), None)
        # the rule's own conditions hold for the shape too (a signature before the link: "*AFC <link>")
        deflection = by_id["link_deflection"]
        excused = (at is not None and any(u.search(_sentence_line(draft, at, at))
                                          for u in deflection.unless.get(draft.language, ()))) or any(
            u.search(draft.surface) for u in deflection.unless_reply.get(draft.language, ())) or (
            at is not None and "?" in draft.surface.split("<url>")[0]
            and _WHERE_TO_LOOK.get(draft.language, _WHERE_TO_LOOK["en"]).search(
                " " + _sentence_line(draft, at, at) + " "))
        # Nothing but a link is a deflection; a few words around it are one when they point at it
        # (session 7: "I doubt it... <link>", a photo with a caption, is not).
        if not excused and (not words or (len(words) < LINK_ONLY_WORDS and _POINTER.search(draft.text))):
            found.append(_finding(by_id["link_deflection"], draft, urls[0].start(), urls[0].end(), ui,
                                  f"shape: a link with only {len(words)} words around it", "shape"))
    found += _handoff_findings(draft, rules, ui)
    found += _help_article_findings(draft, rules, ui)
    for start, end in _shouting(draft.text):
        found.append(_finding(by_id["rudeness"], draft, start, end, ui,
                              "shape: capitals (shouting)", "shape"))
    for m in _BANGS.finditer(draft.text):
        found.append(_finding(by_id["rudeness"], draft, m.start(), m.end(), ui,
                              "shape: repeated exclamation marks", "shape", severity="warning"))
    return found


def _handoff_findings(draft: Draft, rules: Sequence[Rule], ui: str) -> list[Finding]:
    """A link to a contact page, a request form or a feedback board is a referral (session 10, later)."""
    referral = next((r for r in rules if r.builtin and r.id == "referral"), None)
    if referral is None or any(u.search(draft.surface) for u in referral.unless_reply.get(draft.language, ())):
        return []
    found = []
    for m in URL.finditer(draft.text):
        if not _HANDOFF_ADDRESS.search(m.group().split("?")[0]):  # the host and path, not the query
            continue
        at = next((i for i, t in enumerate(draft.tokens) if t.start == m.start()), None)
        if at is None:
            continue
        sentence = _sentence_line(draft, at, at)
        if _FOLLOW_OWN.search(sentence) or any(u.search(sentence) for u in referral.unless.get(draft.language, ())):
            continue
        found.append(_finding(referral, draft, m.start(), m.end(), ui,
                              "shape: a link to a contact page, a request form or a feedback board", "shape"))
    return found


def _help_article_findings(draft: Draft, rules: Sequence[Rule], ui: str) -> list[Finding]:
    """A link to a help article in a reply that explains nothing else is the answer behind a link,
    whatever words point at it ("I wonder if it has to do with this known issue: <link>")."""
    deflection = next((r for r in rules if r.builtin and r.id == "link_deflection"), None)
    if deflection is None or any(u.search(draft.surface) for u in deflection.unless_reply.get(draft.language, ())):
        return []
    language = draft.language if draft.language in _FOR_MORE else "en"
    found = []
    for m in URL.finditer(draft.text):
        if not _HELP_ADDRESS.search(m.group()) or _HANDOFF_ADDRESS.search(m.group().split("?")[0]):
            continue
        at = next((i for i, t in enumerate(draft.tokens) if t.start == m.start()), None)
        if at is None:
            continue
        sentence = _sentence_line(draft, at, at)
        before = draft.tokens[at - 1].surface if at else ""
        line = " " + sentence + " "
        if before not in (":", "here", "below", "qui", "sotto") or not (
                _FOR_HOW[language].search(line) or _POINTS_AT[language].search(line)):
            continue
        if (before == "?" or sentence.rstrip().endswith("?") or _FOR_MORE[language].search(line)
                or any(u.search(sentence) for u in deflection.unless.get(draft.language, ()))
                or _explained(draft, at, at)):
            continue
        found.append(_finding(deflection, draft, m.start(), m.end(), ui, _HELP_ARTICLE, "shape"))
    return found


def _one_reading_per_link(draft: Draft, findings: list[Finding]) -> list[Finding]:
    """A link that sends the customer to another channel is a referral, not also a deflection: a
    `link_deflection` finding is dropped when every link it holds is a referral's (session 10, later)."""
    handed = [(m.start(), m.end()) for m in URL.finditer(draft.text)
              if any(f.pattern == "referral" and f.start <= m.start() and m.end() <= f.end
                     and (f.layer == "shape" or _CONTACT_WORDS.search(f.words)) for f in findings)]
    referred = any(f.pattern == "referral" for f in findings)
    referring = {draft.sentence_of[i] for f in findings if f.pattern == "referral"
                 for i, t in enumerate(draft.tokens) if f.start <= t.start < f.end}
    language = draft.language if draft.language in _FOR_HOW else "en"
    kept = []
    for f in findings:
        if f.pattern == "link_deflection":
            links = [(m.start(), m.end()) for m in URL.finditer(draft.text)
                     if f.start <= m.start() and m.end() <= f.end]
            if not links:  # "here's the link: <link>": the link it points at, in the same sentence
                numbers = {s for t, s in zip(draft.tokens, draft.sentence_of, strict=True)
                           if f.start <= t.start < f.end}
                links = [(t.start, t.end) for t, s in zip(draft.tokens, draft.sentence_of, strict=True)
                         if s in numbers and t.start >= f.end and t.surface == "<url>"][:1]
            if links and all(link in handed for link in links):
                continue
            # a help article's link in a sentence that sends the customer elsewhere is that referral's
            if f.rule == _HELP_ARTICLE and {draft.sentence_of[i] for i, t in enumerate(draft.tokens)
                                            if f.start <= t.start < f.end} & referring:
                continue
            # ...and a link for more beside a referral goes with the referral ("Please call 1-800-… For
            # more information, please visit <link>"): the reply's one fault is the hand-over.
            pointing = " " + _pointing_line(draft, f.start, f.end) + " "
            if referred and _FOR_MORE[language].search(pointing) and not _FOR_HOW[language].search(pointing):
                continue
        kept.append(f)
    return kept


def _pointing_line(draft: Draft, start: int, end: int) -> str:
    """The surface line of the sentences a finding's words are in, from its first word."""
    at = [i for i, t in enumerate(draft.tokens) if start <= t.start < end and t.surface not in SENTENCE_END]
    return _sentence_line(draft, at[0], at[-1]) if at else ""


def _is_handle(text: str, token: Any) -> bool:
    """@mentions, #hashtags and a signature like "^JB" or "/PB" are not words of the reply."""
    before = text[token.start - 1 : token.start] if token.start else ""
    return before in ("@", "#", "^", "/", "*") or (token.text.isupper() and len(token.text) <= 3 and before == "-")


def _shouting(text: str) -> list[tuple[int, int]]:
    """Runs of two or more words in capitals (at least one of 4+ letters) that are not
    acronyms: one word in capitals is more often a brand or a code than a shout
    ("XFINITY HD"); words of two capitals ("IS", "HD") neither count nor break a run."""
    spans: list[tuple[int, int]] = []
    run: list[re.Match[str]] = []

    def close() -> None:
        if len(run) >= 2 and max(len(m.group()) for m in run) >= 4:
            spans.append((run[0].start(), run[-1].end()))

    # Placeholders such as <PER> or <URL> in anonymised text are not shouting.
    text = re.sub(r"<[^<>\n]{1,40}>", lambda m: " " * len(m.group()), text)
    for m in _CAPS_WORD.finditer(text):
        if m.group() in _ACRONYMS or text[m.start() - 1 : m.start()] in ("#", "@", "^", "/", "*"):
            close()
            run = []
            continue
        if len(m.group()) <= 2:
            continue  # neutral: neither a shout alone nor a break in one
        if run and not re.fullmatch(r"(?:[\s,.!?'\u2019-]|\b[A-ZÀ-Ý]{2}\b)*", text[run[-1].end() : m.start()]):
            close()
            run = []
        run.append(m)
    close()
    return spans


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per rule per place: overlapping findings of the same rule become the
    widest one; different rules on the same words all stay."""
    findings.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for f in findings:
        same = next((k for k in kept if k.pattern == f.pattern and f.start < k.end and k.start < f.end), None)
        if same is None:
            kept.append(f)
        elif f.end > same.end:
            same.end, same.words = f.end, same.words + f.words[same.end - f.start :]
    return kept


# -- the score ----------------------------------------------------------------------------


def _matches(patterns: dict[str, tuple[Pattern, ...]], draft: Draft) -> str:
    for pattern in patterns.get(draft.language, ()):
        m = next(pattern.spans(draft), None)
        if m is not None:
            span = draft.span(pattern.line, *m)
            if span:
                return draft.text[span[2] : span[3]]
    return ""


def _next_step(check: Check, draft: Draft) -> str:
    """A time and a commitment in the same sentence."""
    for number, start, end in draft.sentences():
        sentence = read(draft.text[start:end], draft.language)
        time = _matches(check.patterns, sentence)
        if time and _matches(check.commitment, sentence):
            return draft.sentence_text(number)
    return ""


def customer_reading(context: Context) -> dict[str, Any]:
    """Sentiment, a company mistake and a direct question in the customer's messages."""
    text = "\n".join(context.customer_messages[-3:])
    if not text.strip():
        return {"sentiment": "", "mistake": False, "question": ""}
    language = context.customer_language if context.customer_language in LANGUAGES else detect_language(text)
    lowered = text.lower()
    p = practice()
    negative = sum(lowered.count(w) for w in p.negative.get(language, ()))
    positive = sum(lowered.count(w) for w in p.positive.get(language, ()))
    negative += lowered.count("!!") + len(re.findall(r"\b[A-Z]{4,}\b", text))
    sentiment = "negative" if negative > positive else "positive" if positive > negative else "neutral"
    last = read(context.customer_messages[-1], language)
    mistake = bool(_matches(p.mistake, read(text, language)))
    question = ""
    for _number, start, end in last.sentences():
        if "?" in last.text[end : end + 2]:
            question = last.text[start : end + 1].strip()
    return {"sentiment": sentiment, "mistake": mistake, "question": question, "language": language}


_STOPWORDS = re.compile(r"^(?:\w{1,3}|questo|questa|quello|quella|sono|essere|avere|fare|potere|volere|"
                        r"dovere|this|that|have|what|when|where|with|would|could|there|their|about|your|"
                        r"please|grazie|thanks|buongiorno|salve|hello)$")


def _answers(question: str, draft: Draft) -> bool:
    """At least: the draft shares a content word (by lemma) with the question."""
    q = read(question, draft.language)
    wanted = {t.lemma for t in q.words() if not _STOPWORDS.match(t.lemma)}
    have = {t.lemma for t in draft.words()}
    return not wanted or bool(wanted & have)


def _checks(draft: Draft, context: Context, reading: dict[str, Any], ui: str) -> list[CheckResult]:
    p = practice()
    bad_day = reading["mistake"] or reading["sentiment"] == "negative"
    results = []
    for check in p.checks.values():
        words, expected, met = "", False, False
        if check.id == "apology":
            words = _matches(check.patterns, draft)
            boiler = _matches(check.boilerplate, draft)
            met, expected = bool(words), bool(reading["mistake"])
            if boiler and not words:
                words = boiler
        elif check.id == "ownership":
            words = _matches(check.patterns, draft)
            met, expected = bool(words), bool(reading["mistake"])
        elif check.id == "next_step":
            words = _next_step(check, draft)
            met, expected = bool(words), bool(reading["mistake"] or reading["question"])
        elif check.id == "empathy":
            words = _matches(check.patterns, draft)
            met, expected = bool(words), bad_day
        elif check.id == "thanks_loyal":
            words = _matches(check.patterns, draft)
            met, expected = bool(words), context.tier in ("loyal", "vip")
            if not expected and not met:
                continue
        elif check.id == "greeting_name":
            first = context.name.split()[0] if context.name.strip() else ""
            expected = bool(first) and "@" not in first and not first.isdigit()
            if not expected:
                continue
            m = re.search(rf"(?<!\w){re.escape(first)}(?!\w)", draft.text, re.IGNORECASE)
            met, words = bool(m), m.group() if m else ""
        elif check.id == "language":
            expected = context.customer_language in LANGUAGES
            if not expected:
                continue
            met = draft.language == context.customer_language
        elif check.id == "answers_question":
            expected = bool(reading["question"])
            if not expected:
                continue
            met = _answers(reading["question"], draft)
            words = reading["question"]
        results.append(CheckResult(id=check.id, label=check.text("label", ui), met=met, expected=expected,
                                   hint="" if met else check.text("hint", ui), words=words))
    return results


def _context_summary(context: Context, reading: dict[str, Any]) -> dict[str, Any]:
    return {
        "customer_language": context.customer_language or reading.get("language", ""),
        "sentiment": reading["sentiment"],
        "company_mistake": reading["mistake"],
        "question": reading["question"],
        "tier": context.tier,
        "name": context.name,
    }
