"""What the agent reads of a mail: the new text, without the quoted thread and the
signature (the whole original stays viewable). mail-parser-reply does the work in
English and Italian; the patterns below catch what it leaves."""

from __future__ import annotations

import html as std_html
import re

import nh3
from mailparser_reply import EmailReplyParser

_SPANNING = re.IGNORECASE | re.MULTILINE | re.DOTALL
# Reply headers that open the quoted part, on their own line (possibly wrapped on two).
_REPLY_HEADERS = [
    # Il giorno lun 23 nov 2026 alle ore 10:12 Mario <m@x.it> ha scritto:
    re.compile(r"^\s*Il giorno\b.{0,300}?\bha\s+scritto\s*:\s*$", _SPANNING),
    # Il 23/11/2026 10:12, Mario ha scritto:
    re.compile(r"^\s*(Il|In data)\b[^\n]{0,100}\d.{0,200}?\bha\s+scritto\s*:\s*$", _SPANNING),
    # On Mon, Nov 23, 2026 at 10:12 AM Mario <m@x.com> wrote:
    re.compile(r"^\s*On\b[^\n]{0,100}\d.{0,200}?\bwrote\s*:\s*$", _SPANNING),
    # Outlook: a rule, then From:/Da: ... Sent:/Inviato: ...
    re.compile(r"^\s*_{10,}\s*$", re.MULTILINE),
    re.compile(r"^\s*(From|Da|De)\s*:.*\n\s*(Sent|Date|Inviato|Data|Envoyé)\s*:", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^\s*-{2,}\s*(Original Message|Messaggio originale)\s*-{2,}", re.IGNORECASE | re.MULTILINE),
]
_SIGNATURES = re.compile(
    r"^\s*(--\s*|Sent from my [\w ]+|Inviato da(l mio)? [\w ]+|Sent from Outlook for \w+|"
    r"Ottieni Outlook per \w+|Get Outlook for \w+)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|i|inoltro|tr|wg)\s*:", re.IGNORECASE)
_BLOCK_END = re.compile(r"<br\s*/?>|</(p|div|li|tr|h[1-6]|blockquote|pre|table)>", re.IGNORECASE)
_parser = EmailReplyParser(languages=["it", "en"])


def html_to_text(html: str) -> str:
    """HTML as plain text with its line breaks, for mail that has no text part."""
    spaced = _BLOCK_END.sub(lambda m: m.group(0) + "\n", html)
    stripped = nh3.clean(spaced, tags=set(), attributes={},
                         clean_content_tags={"script", "style", "head", "title"})
    lines = [" ".join(line.split()) for line in std_html.unescape(stripped).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def is_forward(subject: str) -> bool:
    return bool(_FORWARD_SUBJECT.match(subject))


def strip_reply(text: str, subject: str = "") -> str:
    """The new part of a reply. A forward keeps everything: what was forwarded is the point."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text or is_forward(subject):
        return text
    try:
        new = _parser.parse_reply(text=text) or ""
    except Exception:  # a third-party parser must never lose a mail
        new = text
    cut = len(new)
    for pattern in _REPLY_HEADERS:
        match = pattern.search(new)
        if match and match.start() < cut:
            cut = match.start()
    new = new[:cut]
    signature = _SIGNATURES.search(new)
    if signature and signature.start() > 0:
        new = new[: signature.start()]
    # Lines quoted with ">" at the end, left by clients that interleave nothing.
    lines = new.rstrip().split("\n")
    while lines and lines[-1].lstrip().startswith(">"):
        lines.pop()
    new = "\n".join(lines).strip()
    return new or text
