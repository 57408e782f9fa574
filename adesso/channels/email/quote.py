"""What the agent reads of a mail: the new text, without the quoted thread and the
signature (the whole original stays one click away, "Show original").

Line by line, in linear time: every line is tested against a fixed set of
patterns on at most `_LINE_CHARS` characters of it (and of the one or two lines
after it, for reply headers wrapped by the client), and only the first
`MAX_LINES` lines are read for quotes at all. What is removed:

- lines quoted with ">", with the reply header that introduces them ("On ...
  wrote:", "Il giorno ... ha scritto:", "Le ... a écrit :", "Am ... schrieb ...:",
  in a dozen languages); the customer's words around them stay, so a reply
  written under the quote (bottom-posting) or between quoted lines is kept;
- from a reply header not followed by ">" lines (the quote of an HTML mail, or a
  client that does not mark it), from an Outlook header block ("From:/Sent:",
  "Da:/Inviato:", "De :/Envoyé :", "Von:/Gesendet:"... possibly wrapped, with "On
  Behalf Of"), from an "Original Message" separator (or a dashed one with any
  title right above such a block), from Zoho's "---- On ... wrote ----": everything
  below;
- signatures: from a "-- " line (when what follows is short), and the lines
  mobile clients add ("Sent from my iPhone", "Inviato dal mio smartphone
  Samsung Galaxy.", "Ottieni Outlook per iOS<https://...>"), and the company block
  (phones, VAT number, disclaimer) under a "Cordiali saluti" line and the name.

A forward keeps everything: what was forwarded is the point. HTML-only mail is
turned into text first with the quote elements of each client left out
(`html_to_text`).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Lines read for quotes; what lies beyond is kept as it is.
MAX_LINES = 3000
# Characters of a line the patterns look at.
_LINE_CHARS = 400
# A "-- " signature is cut only when it is followed by at most this many lines.
_SIGNATURE_LINES = 15

_I = re.IGNORECASE
# Verbs that end a reply header, in the languages our customers write in.
_WROTE = (
    r"(wrote|writes|has written|ha scritto|hanno scritto|scrisse|scrive|a [ée]crit|[ée]crit|schrieb|hat geschrieben|"
    r"schreef|heeft geschreven|escribi[óo]|escreveu|napisa[łl]\(?a?\)?|napisa[łl]a|pisze|написал\(?а?\)?|написала|"  # noqa: RUF001
    r"пишет|skrev|kirjoitti|napsal\(?a?\)?|yazd[ıi]|scris|έγραψε|wrote on)"  # noqa: RUF001
)
# "On Mon, 23 Nov 2026 at 10:12, Mario <m@x.it> wrote:" and its translations: the verb
# near the end of the header, then at most a name and an address before the colon.
_ATTRIBUTION_END = re.compile(r"\b" + _WROTE + r"(\s[^:]{0,150})?\s*:\s*$", _I)
# Gmail in some languages writes no verb: "пн, 23 нояб. 2026 г. в 10:12, Mario <m@x.ru>:"  # noqa: RUF003
_ADDRESS_END = re.compile(r"<[^\s<>]{1,100}@[^\s<>]{1,100}>\s*:\s*$")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
_CJK_ATTRIBUTION = re.compile(r"(写道|寫道|님이 작성|のメッセージ)\s*[:：]?\s*$")  # noqa: RUF001
# Yahoo's plain text puts the header and the quote on one line: "On ..., Shop<a@b> wrote:   Old text"
_INLINE_ATTRIBUTION = re.compile(
    r"^\s*(on|il|le|am|el|em|op|w dniu|den)\s.{0,200}?@[^\s]{1,100}\s*[>)]?\s*" + _WROTE + r"\s*:\s*\S", _I
)
# A reply header is at most this long.
_ATTRIBUTION_CHARS = 450
_FROM = re.compile(
    r"^\s*[*>]*\s*(from|da|de|von|van|od|от|fra|från|lähettäjä|mittente|absender|remitente|expéditeur|"
    r"feladó|odesílatel|kimden|apó|από)\s*\*?\s*:\s*\*?\s*\S",
    _I,
)
_SENT = re.compile(
    r"^\s*[*>]*\s*(sent|date|inviato|data|envoy[ée]|gesendet|datum|enviado|enviada|fecha|verzonden|verstuurd|"
    r"wys[łl]ano|wys[łl]ane|отправлено|дата|sendt|skickat|lähetetty|päivämäärä|odesláno|dátum|küldve|tarih|"
    r"sent on|date d'envoi|dato)(\s+(em|am|le|el|on|op|den|dnia))?\s*\*?\s*:",
    _I,
)
_TO_OR_SUBJECT = re.compile(
    r"^\s*[*>]*\s*(to|a|à|an|aan|do|para|кому|til|till|vastaanottaja|per|komu|címzett|kime|"
    r"subject|oggetto|objet|betreff|asunto|onderwerp|temat|тема|emne|ämne|aihe|assunto|předmět|tárgy|konu|"
    r"cc|ccn|bcc)\s*\*?\s*:",
    _I,
)
_SEPARATOR = re.compile(
    r"^\s*[-_=*]{2,}\s*(original message|messaggio originale|message d'origine|message original|"
    r"urspr[üu]ngliche nachricht|original-nachricht|mensaje original|mensagem original|oorspronkelijk bericht|"
    r"origineel bericht|wiadomo[śs][ćc] oryginalna|oryginalna wiadomo[śs][ćc]|исходное сообщение|"
    r"opprinnelig melding|ursprungligt meddelande|oprindelig meddelelse|oprindelig besked|alkuper[äa]inen viesti|"
    r"původní zpráva|original e-?mail|reply message|risposta)\s*[-_=*]*\s*$",
    _I,
)
_FORWARD_SEPARATOR = re.compile(
    r"^\s*([-_=*]{2,}\s*(forwarded message|messaggio inoltrato|message transf[ée]r[ée]|weitergeleitete nachricht|"
    r"mensaje reenviado|mensagem encaminhada|doorgestuurd bericht|wiadomo[śs][ćc] przekazana|"
    r"пересылаемое сообщение|vidarebefordrat meddelande|videresendt meddelelse)\s*[-_=*]*|"
    r"(begin forwarded message|inizio messaggio inoltrato|d[ée]but du message r[ée]exp[ée]di[ée])\s*:)\s*$",
    _I,
)
_RULE = re.compile(r"^\s*(_{8,}|-{8,}|={8,})\s*$")
_TITLED_RULE = re.compile(r"^\s*[-_=*]{3,}\s*[^-_=*\s][^-_=*]{1,60}?\s*[-_=*]{3,}\s*$")
_SIG_DELIMITER = re.compile(r"^\s*--\s*$")
# The line a mobile client or webmail appends, possibly with a link, in many languages.
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(sent|inviato|inviata|envoy[ée]|enviado|gesendet|von meinem|verzonden|verstuurd|wys[łl]ane|отправлено|"
    r"skickat|sendt|l[äa]hetetty|odesl[áa]no|get|ottieni|scarica|obtenir|t[ée]l[ée]charger|holen sie sich|"
    r"obtener|obt[ée]n|pobierz|download|baixe|obter)\b[^\n,;]{0,80}?\b"
    r"(iphone|ipad|android|outlook|samsung|galaxy|mobile|mobil|smartphone|yahoo|windows|proton\s?mail|proton|"
    r"huawei|xiaomi|blackberry|gmx|libero|tablet|telefono|cellulare|dispositivo|appareil|ger[äa]t|handy|"
    r"device|phone|m[óo]vil|celular|aol|ios|mail|posta)\b[^\n]{0,120}$",
    _I,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|i|inoltro|inoltra|tr|wg|rv|enc|doorst|pd|vs)\s*:", _I)
_QUOTED = re.compile(r"^\s*>")


def is_forward(subject: str) -> bool:
    return bool(_FORWARD_SUBJECT.match(subject))


def _head(line: str) -> str:
    return line[:_LINE_CHARS].strip()


# Zoho Mail wraps its reply header in dashes: "---- On Wed, 24 Feb 2021 14:02 <a@b> wrote ----".
_DASHED = re.compile(r"^-{2,}\s*(.*?)\s*-{2,}$")


def _is_attribution(joined: str) -> bool:
    dashed = _DASHED.match(joined)
    if dashed and not joined.rstrip().endswith(":"):
        joined = dashed.group(1) + ":"
    end = joined[-220:]
    if _CJK_ATTRIBUTION.search(end):
        return True
    if not end.endswith(":"):
        return False
    return bool(_ATTRIBUTION_END.search(end)) or bool(_ADDRESS_END.search(end) and _TIME.search(joined))


def _attribution_at(lines: list[str], i: int) -> int:
    """How many lines (1-3) a reply header starting at line i spans; 0 if none."""
    joined = ""
    for span in range(1, 4):
        if i + span > len(lines):
            return 0
        part = _head(lines[i + span - 1])
        if not part or (span > 1 and _QUOTED.match(part)):
            return 0
        joined = f"{joined} {part}".strip()
        if len(joined) > _ATTRIBUTION_CHARS:
            return 0
        if _is_attribution(joined):
            return span
    return 0


def _dated(lines: list[str]) -> bool:
    joined = " ".join(_head(line) for line in lines)
    return bool(_TIME.search(joined) or re.search(r"\d{1,4}[./-]\d{1,2}|\b(19|20)\d\d\b|@", joined))


def _header_block_at(lines: list[str], i: int) -> bool:
    """An Outlook-style header block (From + Sent/Date + To/Subject) starts at line i."""
    if not _FROM.match(lines[i][:_LINE_CHARS]):
        return False
    window = [line[:_LINE_CHARS] for line in lines[i + 1 : i + 12]]
    sent = next((n for n, line in enumerate(window) if _SENT.match(line)), None)
    if sent is None or sent > 6:
        return False
    return any(_TO_OR_SUBJECT.match(line) for line in window)


def _cut_at(lines: list[str], i: int) -> bool:
    """Everything from line i on is quoted history."""
    line = lines[i][:_LINE_CHARS]
    if _SEPARATOR.match(line) or _header_block_at(lines, i) or _INLINE_ATTRIBUTION.match(line):
        return True
    # An Outlook rule, or a separator with a title in any language ("-------- Oprindelig
    # besked --------"), right above a header block.
    ruled = bool(_RULE.match(line) or _TITLED_RULE.match(line))
    return ruled and any(_header_block_at(lines, j) for j in range(i + 1, min(i + 4, len(lines))))


def _next_content(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _is_mobile_signature(line: str) -> bool:
    return len(line) < 200 and bool(_MOBILE_SIGNATURE.match(line))


def _drop_signature(kept: list[str]) -> list[str]:
    """The lines before a "-- " delimiter (when what follows it is short), without the
    lines mobile clients add, and without a company signature under the sign-off."""
    out = [line for n, line in enumerate(kept) if not (n > 0 and _is_mobile_signature(line))]
    for n in range(len(out) - 1, -1, -1):
        if _SIG_DELIMITER.match(out[n]):
            if sum(1 for line in out[n + 1 :] if line.strip()) <= _SIGNATURE_LINES:
                return out[:n]
            break
    return _drop_company_signature(out)


# A sign-off on a line of its own: "Cordiali saluti", "Mit freundlichen Grüßen", "Kind regards"...
_VALEDICTION = re.compile(
    r"^\s*((cordiali|distinti|cari|molti|tanti)\s+saluti|saluti(\s+cordiali)?|un\s+(cordiale\s+)?saluto|"
    r"(mit\s+)?(freundlichen|besten|herzlichen|viele|liebe|beste)\s+gr(ü|ue)(ß|ss)en?|gru(ß|ss)|"
    r"(best|kind|warm|many\s+thanks\s+and)?\s*regards|best(\s+wishes)?|sincerely(\s+yours)?|yours\s+sincerely|"
    r"cordialement|bien\s+(cordialement|à\s+vous)|salutations(\s+distinguées)?|"
    r"(un\s+)?(cordial(es)?\s+)?saludos?(\s+cordiales)?|atentamente|atenciosamente|(com\s+os\s+)?melhores\s+cumprimentos|"
    r"met\s+vriendelijke\s+groet(en)?|vriendelijke\s+groet(en)?|z\s+powa(ż|z)aniem|pozdrawiam|"
    r"med\s+venlig\s+hilsen|vennlig\s+hilsen|med\s+vänliga\s+hälsningar|ystävällisin\s+terveisin|"
    r"cheers|(many\s+)?thanks|thank\s+you|thx|grazie(\s+mille)?|merci|danke|gracias|obrigad[oa]|dzi[eę]kuj[eę]|bedankt)"
    r"[\W_]*$",
    _I,
)
# What marks the lines under the sign-off and the name as a company signature.
_SIGNATURE_MARK = re.compile(
    r"^\s*(tel|telefono|phone|fon|fax|mob|mobile|cell|cellulare|m|t|f|p|w)\b\.?\s*[:.]?\s*\+?[\d(]|"
    r"\bwww\.|https?://|[\w.+-]+@[\w-]+\.\w|^\s*[-_=*]+(\s+[-_=*]+)+\s*$|^\s*[-_=*\u2014\u2013\u2500\u2501]{5,}\s*$|"
    r"^\W*\+?\d[\d\s()./-]{7,}\s*$|"
    r"\b(s\.?r\.?l|s\.?p\.?a|s\.?a\.?s|s\.?n\.?c|gmbh|ag|kg|ltd|inc|llc|b\.v|s\.a|sarl|sas)\b\.?|"
    r"\b(p\.?\s?iva|partita\s+iva|c\.?f\.|codice\s+fiscale|vat|ust-?id|hrb|rea|amtsgericht|gesch(ä|ae)ftsf(ü|ue)hrer)\b|"
    r"\b(riservat|confidential|vertraulich|confidentiel|d\.?\s?lgs|gdpr|privacy|disclaimer|destinatario|"
    r"adressat|intended\s+recipient)",
    _I,
)
_POSTSCRIPT = re.compile(r"^\s*p\.?\s?s\b", _I)
# Lines of a name (and a title) kept under the sign-off.
_NAME_LINES = 3


def _drop_company_signature(lines: list[str]) -> list[str]:
    """Under the last sign-off ("Cordiali saluti") and the name below it, the company
    block many business mails carry (address, phones, VAT number, disclaimer) is not
    the customer's message: cut when it has such marks and no question or P.S."""
    sign_off = next((n for n in range(len(lines) - 1, -1, -1) if _VALEDICTION.match(lines[n][:80])), None)
    if sign_off is None or len(lines[sign_off]) > 60:
        return lines
    name_end = sign_off + 1
    while name_end < len(lines) and not lines[name_end].strip():
        name_end += 1
    named = name_end
    while named < len(lines) and lines[named].strip() and named - name_end < _NAME_LINES:
        line = lines[named]
        if len(line) > 60 or any(ch.isdigit() for ch in line) or _SIGNATURE_MARK.search(line):
            break  # not a name (or a title): nothing is cut below it
        named += 1
    rest = [line for line in lines[named:] if line.strip()]
    if not rest or named == name_end:
        return lines
    if any(_POSTSCRIPT.match(line) or line.rstrip().endswith("?") for line in rest):
        return lines
    if not any(_SIGNATURE_MARK.search(line[:_LINE_CHARS]) for line in rest):
        return lines
    return lines[:named]


def _tidy(lines: list[str]) -> str:
    # Rules and empty quote marks left at the end of what is kept.
    while lines and (not lines[-1].strip() or _RULE.match(lines[-1]) or lines[-1].strip() == ">"):
        lines.pop()
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def strip_reply(text: str, subject: str = "") -> str:
    """The new part of a reply: the customer's words, without quoted history and
    signatures. Never empty when the mail has text (nothing new: the whole text)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text or is_forward(subject):
        return text
    lines = text.split("\n")
    head, tail = lines[:MAX_LINES], lines[MAX_LINES:]
    kept: list[str] = []
    segment: list[str] = []  # the customer's lines since the last quote
    i = 0
    cut = False
    while i < len(head):
        line = head[i]
        if _FORWARD_SEPARATOR.match(line[:_LINE_CHARS]):
            # A forward inside the mail: kept whole from here.
            segment += head[i:]
            i = len(head)
            break
        if _cut_at(head, i):
            cut = True
            break
        span = _attribution_at(head, i)
        if span:
            after = _next_content(head, i + span)
            if after < len(head) and _QUOTED.match(head[after]):
                kept += _drop_signature(segment)
                segment = []
                i = after
                continue
            if _dated(head[i : i + span]):
                # Not followed by quote marks: everything below is the quote. Only a
                # header with a date or an address counts ("my colleague wrote:" is prose).
                cut = True
                break
        if _QUOTED.match(line):
            if segment:
                kept += _drop_signature(segment)
                segment = []
            i += 1
            continue
        segment.append(line)
        i += 1
    kept += _drop_signature(segment)
    if not cut:
        kept += tail
    return _tidy(kept) or text


# --- HTML -----------------------------------------------------------------

_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "dl",
    "dt",
    "dd",
}
_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source", "embed", "param"}
_INVISIBLE = {"script", "style", "head", "title", "template", "noscript", "xml"}
# Elements that hold a quote or a signature: left out with their content.
_QUOTE_CLASSES = re.compile(
    r"\b(gmail_quote|gmail_signature|gmail_attr|moz-cite-prefix|moz-signature|protonmail_quote|"
    r"protonmail_signature_block|ms-outlook-mobile-signature|yahoo_quoted|ydp\w*yahoo_quoted|zmail_extra|"
    r"AppleOriginalContents|x_gmail_quote|x_gmail_signature|"
    r"elided-text|tutanota_quote|front-blockquote)\b",
    _I,
)
_QUOTE_IDS = re.compile(
    r"^(Signature|x_Signature|AppleMailSignature|composer_signature|ms-outlook-mobile-signature|"
    r"ms-outlook-ios-signature|signature|yahoo_quoted_\w+|ymail_android_signature|isForwardContent)$",
    _I,
)
# Elements from which everything below is the quoted thread.
_REST_IDS = re.compile(
    r"^(x_)?(divRplyFwdMsg|appendonsend|stopSpelling|mail-editor-reference-message-container|zwchr|"
    r"OLK_SRC_BODY_SECTION|reply-intro|divtagdefaultwrapper_quote)$",
    _I,
)
# HCL (Lotus) Notes/Domino puts the quoted mail in a "domino-section" after the reply.
_REST_CLASSES = re.compile(r"\b(OutlookMessageHeader|gmail_extra_quote|domino-section)\b", _I)
_OUTLOOK_HEADER_STYLE = re.compile(r"border-top\s*:\s*solid\s*#(E1E1E1|B5C4DF)", _I)
_CITE_STYLE = re.compile(r"border-left\s*:", _I)
# HTML longer than this is read only this far.
MAX_HTML_CHARS = 2_000_000


class _TextExtractor(HTMLParser):
    def __init__(self, strip_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.strip_quotes = strip_quotes
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.skip_depth = 0  # > 0: inside an element left out (its depth in the stack)
        self.invisible = 0
        self.stopped = False

    def _is_quote(self, tag: str, attrs: dict[str, str]) -> bool:
        if not self.strip_quotes:
            return False
        if tag == "blockquote":
            return (
                attrs.get("type", "").lower() == "cite"
                or bool(_QUOTE_CLASSES.search(attrs.get("class", "")))
                or bool(_CITE_STYLE.search(attrs.get("style", "")))
            )
        return (
            bool(_QUOTE_CLASSES.search(attrs.get("class", "")))
            or bool(_QUOTE_IDS.match(attrs.get("id", "")))
            or (attrs.get("data-smartmail", "") == "gmail_signature")
        )

    def _is_rest(self, tag: str, attrs: dict[str, str]) -> bool:
        if not self.strip_quotes:
            return False
        return (
            bool(_REST_IDS.match(attrs.get("id", "")))
            or bool(_REST_CLASSES.search(attrs.get("class", "")))
            or (tag == "div" and bool(_OUTLOOK_HEADER_STYLE.search(attrs.get("style", ""))))
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        if self.skip_depth == 0 and self._is_rest(tag, values):
            self.stopped = True
            return
        visible = not (self.skip_depth or self.invisible)
        if visible and tag in {"br", "hr"}:
            self.parts.append("\n")
        elif visible and tag in _BLOCKS and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
        if tag in _VOID:
            return
        self.stack.append(tag)
        if tag in _INVISIBLE:
            self.invisible += 1
        if self.skip_depth == 0 and self._is_quote(tag, values):
            self.skip_depth = len(self.stack)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.stopped or tag in _VOID or tag not in self.stack:
            return
        visible = not (self.skip_depth or self.invisible)
        while self.stack:  # close what was left open inside it
            top = self.stack.pop()
            if top in _INVISIBLE:
                self.invisible -= 1
            if self.skip_depth > len(self.stack):
                self.skip_depth = 0
            if top == tag:
                break
        if visible and tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.stopped or self.skip_depth or self.invisible:
            return
        self.parts.append(data)

    def text(self) -> str:
        lines = [" ".join(line.split()) for line in "".join(self.parts).replace("\xa0", " ").splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str, strip_quotes: bool = False) -> str:
    """HTML as plain text with its line breaks; with `strip_quotes`, without the
    elements in which mail clients put the quoted thread and the signature
    (Gmail's gmail_quote and gmail_signature, Outlook's divRplyFwdMsg and its
    border-top header, blockquote type=cite of Apple Mail and Thunderbird,
    Yahoo's yahoo_quoted...)."""
    parser = _TextExtractor(strip_quotes)
    try:
        parser.feed(html[:MAX_HTML_CHARS])
        parser.close()
    except Exception:  # noqa: S110 - html.parser is lenient; a guard, never a lost mail
        pass
    return parser.text()


def visible_text(text: str, html: str, subject: str) -> str:
    """What the agent reads of a mail: the text part, or the HTML when there is none,
    without the quoted history and signature."""
    if text.strip():
        return strip_reply(text, subject)
    if not html:
        return ""
    if is_forward(subject):
        return html_to_text(html)
    return strip_reply(html_to_text(html, strip_quotes=True), subject) or html_to_text(html)
