"""Bounces: what failed, for whom, and why, from the mail a server sends back.

Two families of shapes:

- standard delivery status notifications (RFC 3464: `multipart/report;
  report-type=delivery-status`, or a `message/delivery-status` part anywhere):
  Postfix, Exim 4.x, Sendmail, Gmail, Office 365 and Exchange 2007+, Zoho,
  Amazon SES, Mailgun...;
- the plain-text notices older or simpler servers write, recognised by a
  daemon-like sender (MAILER-DAEMON, postmaster, a null Return-Path, "Mail
  Delivery System"...) or a bounce subject, together with the words each server
  uses (qmail's "Hi. This is the qmail-send program", Exchange 2003's "Your
  message did not reach some or all of the intended recipients", Yahoo, Lotus
  Domino, OpenSMTPD, Courier, MDaemon, Exim without a report, Italian, German,
  French... providers).

The mail that bounced is found by its Message-ID in the returned message (a
`message/rfc822` or `text/rfc822-headers` part, or a copy pasted in the text),
or in the bounce's own In-Reply-To/References; the failed recipients from the
report, `X-Failed-Recipients`, or the notice's text. The reason is reduced to
one of a few kinds from the status code and the diagnostic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from django.utils.translation import gettext_lazy as _

_MSGID = re.compile(r"<([^<>\s]{1,250})>")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_CODE = re.compile(r"(?<![\d.])([45]\d\d)[ -]")

REASONS = {
    "mailbox_full": _("mailbox full"),
    "unknown_user": _("unknown user"),
    "unknown_domain": _("unknown domain"),
    "blocked": _("blocked"),
    "other": _("refused"),
}


@dataclass
class Bounce:
    failed: bool  # False for "delayed" or "delivered" reports
    original_message_id: str  # the Message-ID of the mail that bounced, if found
    recipients: list[str] = field(default_factory=list)
    status: str = ""  # e.g. 5.1.1
    diagnostic: str = ""
    reason: str = "other"  # a key of REASONS
    candidates: list[str] = field(default_factory=list)  # every Message-ID that may be the original

    def summary(self) -> str:
        parts = [str(REASONS.get(self.reason, REASONS["other"]))]
        if self.recipients:
            parts.append(", ".join(self.recipients[:5]))
        if self.status:
            parts.append(self.status)
        if self.diagnostic:
            parts.append(self.diagnostic)
        return " · ".join(parts)[:500]


def _text(value: object) -> str:
    return " ".join(str(value or "").replace("\x00", "").split())


def _header(msg: Message, name: str) -> str:
    try:
        return _text(msg.get(name))
    except Exception:  # a header too broken to read counts as absent
        return ""


# Senders that are a mail server, not a person.
_DAEMON_LOCAL = re.compile(
    r"^(mailer-?daemon|mail-?daemon|postmaster|mdaemon|mail\.?delivery|mailer|mail-?delivery-?system|"
    r"mail-?delivery-?subsystem|mailerdaemon|bounces?|nobody|root)$",
    re.IGNORECASE,
)
_DAEMON_NAME = re.compile(
    r"(mailer[- ]?daemon|mail delivery (system|subsystem|service)|postmaster|mail administrator|"
    r"microsoft outlook|mail delivery|mail system|sistema di consegna|servizio di posta|"
    r"e-mail-?system|syst[èe]me de messagerie|administrador del sistema de correo)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(\[[^\]]{0,40}\]\s*)?("
    r"undeliver(ed|able)|returned mail|mail delivery (failed|failure|problem|system)|delivery (status notification|"
    r"failure|failed|notification|has failed|problem|report)|failure notice|non[- ]?deliver(y|able)|nondeliverable|"
    r"message (not delivered|delivery failure|could not be delivered|undeliverable)|mail system error|"
    r"returned to sender|could not send message|unable to deliver|notice of non-?delivery|delivery failure|"
    r"mail could not be delivered|error sending message|mail returned|rejected|message you sent blocked|"
    r"warning: could not send|delayed mail|delivery delayed|delivery notification|permanent delivery failure|"
    r"non recapitabil[ei]|impossibile recapitare|mancato recapito|messaggio non (consegnato|recapitato)|"
    r"non consegnato|avviso di mancata consegna|errore di consegna|consegna non riuscita|unzustellbar|"
    r"nicht zustellbar|non remis|non distribuable|[ée]chec de (la )?(remise|distribution)|"
    r"no se puede entregar|no entregado|onbestelbaar|niet afgeleverd|niedostarczalne|nie dostarczono|"
    r"n[ãa]o (entregue|foi poss[íi]vel entregar)|недоставленное|не доставлено|olevererbart|"
    r"kan ikke leveres|unzustellbare|mail delivery subsystem)",
    re.IGNORECASE,
)
# Words servers use in their notices (the first 10 KB of the text are read).
_BOUNCE_BODY = re.compile(
    r"(this is the qmail-send program|this is the mail system at host|this message was created automatically by "
    r"mail delivery software|a message that you sent could not be delivered|i'm sorry to have to inform you|"
    r"the original message was received at|permanent fatal errors|transcript of session follows|"
    r"your message did not reach some or all of the intended recipients|the following recipient\(s\) could not "
    r"be reached|delivery has failed to these recipients|delivery to the following recipients? (failed|has failed)|"
    r"your message (to [^\n]{1,200} )?couldn't be delivered|your message wasn't delivered|"
    r"sorry, we were unable to deliver your message|message not delivered|was not delivered to|"
    r"not listed in (the )?domino directory|this is the mailer-daemon, please do not reply|"
    r"an error has occurred while attempting to deliver|could not be delivered to (one or more|the following)|"
    r"the mail you sent could not be delivered|unable to deliver (your )?message|delivery to the following "
    r"recipient failed permanently|address not found|the response from the remote server was|"
    r"remote server returned|your message cannot be delivered|message could not be delivered|"
    r"following recipients? (failed|could not be)|undeliverable|non [èe] stato (possibile )?(recapitat|consegnat)|"
    r"impossibile recapitare|mancato recapito|konnte nicht zugestellt werden|n'a pas pu [êe]tre (remis|distribu)|"
    r"no se ha podido entregar|kon niet worden afgeleverd|nie mo[żz]na dostarczy[ćc]|"
    r"n[ãa]o p[ôo]de ser entregue|не может быть доставлено|could not be delivered|"
    r"user unknown|no such user|mailbox unavailable|recipient address rejected|host or domain name not found|"
    r"delivery temporarily suspended|has not yet been delivered|will (continue to )?(be )?retr(y|ied)|"
    r"here is your list of failed recipients|the following addresses had|failed addresses follow|"
    r"machine generated message from mail service|did not receive a copy of your message|intended recipient:|"
    r"undeliverable address|mailbox is full|could not be delivered to the following user|"
    r"unable to deliver message to|delivery to the following recipients? was aborted|"
    r"sorry, unable to deliver your message|a message could not be delivered to|invalid final delivery userid|"
    r"failed recipients|error description:|your message could not be delivered|encountered delivery problems|"
    r"did not reach the following recipient|this is the deliver program at|this is the email server at|"
    r"no such user here|the following address(es)? failed|could not deliver message to the following recipient|"
    r"message not delivered to the following addresses|returned mail follows|permanent error|"
    r"delivery to the following recipients? failed)",
    re.IGNORECASE,
)
_DELAYED = re.compile(
    r"(has not yet been delivered|delivery (is )?delayed|delayed mail|will (continue to )?(be )?retr(y|ied)|"
    r"still (being )?retr|warning: could not send|this is a warning message only|temporar(y|ily) (failure|"
    r"problem|deferred)|delivery status notification \(delay\)|deferred)",
    re.IGNORECASE,
)
# Where the copy of the returned mail starts in a plain-text notice.
_COPY_MARKER = re.compile(
    r"^(-{2,}\s*)?(below this line is a copy of the message|this is a copy of the message|original message "
    r"follows|the original message (headers )?(is|are|was) (included|attached|as follows)|original message headers|"
    r"----- original message -----|-{3,} (original|returned|undelivered) message|unsent message below|"
    r"message headers follow|-{2,} the header of the original message|a copy of the original message|"
    r"below is a copy of the original message|received:\s)",
    re.IGNORECASE | re.MULTILINE,
)
_BODY_MSGID = re.compile(r"^\s*>?\s*message-id:\s*(<[^<>\s]{1,250}>)", re.IGNORECASE | re.MULTILINE)
_DIAGNOSTIC_LINE = re.compile(
    r"^.{0,300}\b([45]\.\d{1,3}\.\d{1,3}|[45]\d\d[ -]|user unknown|unknown user|no such user|does not exist|"
    r"mailbox (is )?full|quota|not listed|blocked|rejected|refused|denied|address not found|not found|"
    r"invalid (recipient|address|mailbox)|unavailable|spam)\b.{0,300}$",
    re.IGNORECASE | re.MULTILINE,
)
_TEXT_WINDOW = 10_000


def _classify(status: str, diagnostic: str, text: str) -> str:
    """The kind of failure: status code class first, then the words of the diagnostic."""
    if status.startswith(("5.2.2", "4.2.2")) or status.startswith("5.2.3"):
        return "mailbox_full"
    if status.startswith("5.7."):
        return "blocked"
    if status.startswith(("5.1.2", "5.4.4", "4.4.4", "5.1.8")):
        return "unknown_domain"
    words = f"{diagnostic}\n{text}"
    if re.search(
        r"mailbox (is )?full|quota|over ?quota|storage (space|limit)|insufficient (system )?storage|"
        r"exceeded (the )?(storage|size)|casella (di posta )?(piena|satura)|spazio (insufficiente|esaurito)|"
        r"postfach (ist )?voll|speicherplatz|bo[îi]te (aux lettres |de r[ée]ception )?pleine|buz[óo]n lleno|"
        r"mailbox has exceeded|out of storage|mailbox size limit",
        words,
        re.IGNORECASE,
    ):
        return "mailbox_full"
    if re.search(
        r"block(ed|list)|black ?list|spam|policy|rejected for policy|reputation|spamhaus|dnsbl|\brbl\b|\bspf\b|"
        r"\bdmarc\b|\bdkim\b|banned|virus|content rejected|not (allowed|authori[sz]ed|permitted) to|"
        r"access denied|relay(ing)? (access )?denied|bloccat|rifiutat[oa] per|sender (address )?rejected",
        words,
        re.IGNORECASE,
    ):
        return "blocked"
    if status.startswith("5.1.") or re.search(
        r"user unknown|unknown user|no such (user|address|recipient|mailbox)|does ?n[o']t exist|not exist|"
        r"invalid (recipient|address|mailbox|user)|recipient (not found|unknown)|address not found|"
        r"unknown (recipient|address|local part)|no mailbox|mailbox (unavailable|not found|does not)|"
        r"account (is )?(disabled|inactive|unavailable|closed|suspended)|not listed in|recipnotfound|"
        r"recipient address rejected|no longer (available|active|exists)|unrouteable address|"
        r"utente (sconosciuto|inesistente|non esiste)|indirizzo (inesistente|non valido)|"
        r"unbekannt|existiert nicht|inconnu|n'existe pas|desconocido|no existe|onbekend|nieznany|nie istnieje|"
        r"desconhecido|не существует|no mailbox here by that name|user doesn'?t have",
        words,
        re.IGNORECASE,
    ):
        return "unknown_user"
    if re.search(
        r"host (or domain name )?not found|domain (not found|does not exist)|no mx|name service error|"
        r"unrouteable domain|dominio inesistente",
        words,
        re.IGNORECASE,
    ):
        return "unknown_domain"
    return "other"


def _first_text(msg: Message) -> str:
    """The notice's own words: its first text part, before the returned copy."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in {"message/rfc822", "text/rfc822-headers", "message/delivery-status"}:
            break
        if part.get_content_maintype() == "text" and part.get_content_disposition() != "attachment":
            try:
                payload = part.get_payload(decode=True)
            except Exception:  # noqa: S112 - a body too broken to decode: the next part may do
                continue
            if isinstance(payload, bytes):
                from adesso.channels.email.charsets import decode_text

                text = decode_text(payload[: _TEXT_WINDOW * 3], part.get_content_charset()).text
                if part.get_content_subtype() == "html":
                    from adesso.channels.email.quote import html_to_text

                    text = html_to_text(text)
                return text
    return ""


def _is_daemon(msg: Message) -> bool:
    sender = _header(msg, "From")
    return_path = _header(msg, "Return-Path").replace(" ", "")
    if return_path in {"<>", "<<>>"} or not sender:
        return True
    addresses = _ADDRESS.findall(sender)
    local = addresses[0].split("@")[0] if addresses else sender.strip("<> ")
    return bool(_DAEMON_LOCAL.match(local)) or bool(_DAEMON_NAME.search(sender.split("<")[0]))


def parse_bounce(msg: Message) -> Bounce | None:
    """The bounce this mail is, or None when it is not a delivery report."""
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "") or "").lower()
    if ctype == "multipart/report" and report_type not in {"", "delivery-status"}:
        return None  # e.g. a read receipt (disposition-notification): not a bounce
    has_status = any(p.get_content_type() == "message/delivery-status" for p in msg.walk())
    standard = ctype == "multipart/report" or has_status
    text = ""
    if not standard:
        daemon = _is_daemon(msg)
        subject = _header(msg, "Subject")
        by_subject = bool(_BOUNCE_SUBJECT.match(subject))
        if not (daemon or by_subject):
            return None
        text = _first_text(msg)[:_TEXT_WINDOW]
        has_copy = any(p.get_content_type() in {"message/rfc822", "text/rfc822-headers"} for p in msg.walk())
        failed_header = bool(_header(msg, "X-Failed-Recipients"))
        by_body = bool(_BOUNCE_BODY.search(text))
        if not (failed_header or (daemon and (by_body or by_subject)) or (by_subject and (by_body or has_copy))):
            return None
    return _read(msg, text or _first_text(msg)[:_TEXT_WINDOW])


def _read(msg: Message, text: str) -> Bounce:
    bounce = Bounce(failed=True, original_message_id="")
    actions: list[str] = []
    for part in msg.walk():
        part_type = part.get_content_type()
        if part_type == "message/delivery-status":
            _read_status(part, bounce, actions)
        elif part_type in {"message/rfc822", "text/rfc822-headers"}:
            found = _original_id(part)
            if found and found not in bounce.candidates:
                bounce.candidates.append(found)
    notice, _sep, copy = _split_copy(text)
    for found in _BODY_MSGID.findall(copy or text):
        found_id = found.strip("<>")
        if found_id not in bounce.candidates:
            bounce.candidates.append(found_id)
    for name in ("In-Reply-To", "References"):
        for found_id in _MSGID.findall(_header(msg, name)):
            if found_id not in bounce.candidates:
                bounce.candidates.append(found_id)
    bounce.original_message_id = bounce.candidates[0] if bounce.candidates else ""
    if not bounce.recipients:
        failed = _header(msg, "X-Failed-Recipients")
        bounce.recipients = [r for r in (x.strip() for x in failed.split(",")) if r]
    if not bounce.recipients:
        bounce.recipients = _recipients_in(notice, msg)
    if not bounce.status:
        found_status = _STATUS.search(notice)
        bounce.status = found_status.group(1) if found_status else ""
    if not bounce.diagnostic:
        line = _DIAGNOSTIC_LINE.search(notice)
        bounce.diagnostic = " ".join(line.group(0).split())[:300] if line else ""
    if actions:
        bounce.failed = any(a.startswith("failed") for a in actions)
    else:
        subject = _header(msg, "Subject")
        if bounce.status.startswith("4.") or (
            (_DELAYED.search(subject) or _DELAYED.search(notice)) and not bounce.status.startswith("5.")
        ):
            bounce.failed = False
    bounce.reason = _classify(bounce.status, bounce.diagnostic, notice)
    return bounce


def _split_copy(text: str) -> tuple[str, str, str]:
    found = _COPY_MARKER.search(text)
    if found is None:
        return text, "", ""
    return text[: found.start()], found.group(0), text[found.start() :]


def _recipients_in(notice: str, msg: Message) -> list[str]:
    """Addresses named in the notice, leaving out the bounce's own sender and recipients."""
    own = {
        a.lower()
        for name in ("From", "To", "Cc", "Return-Path", "Reply-To", "Sender")
        for a in _ADDRESS.findall(_header(msg, name))
    }
    found: list[str] = []
    for address in _ADDRESS.findall(notice):
        clean = address.strip(".").lower()
        local = clean.split("@")[0]
        if clean in own or clean in found or _DAEMON_LOCAL.match(local):
            continue
        found.append(clean)
        if len(found) >= 10:
            break
    return found


def _read_status(part: Message, bounce: Bounce, actions: list[str]) -> None:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    for block in blocks:
        if not isinstance(block, Message):
            continue
        recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
        if recipient:
            address = recipient.split(";", 1)[-1].strip().strip("<>")
            if address and address not in bounce.recipients:
                bounce.recipients.append(address)
        action = _header(block, "Action").lower()
        if action:
            actions.append(action)
        status = _header(block, "Status")
        if status and not bounce.status:
            bounce.status = status[:20]
        diagnostic = _header(block, "Diagnostic-Code")
        if diagnostic and not bounce.diagnostic:
            bounce.diagnostic = diagnostic.split(";", 1)[-1].strip()[:300]


def _original_id(part: Message) -> str:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        headers = inner[0] if isinstance(inner, list) and inner else None
        value = _header(headers, "Message-ID") if isinstance(headers, Message) else ""
    else:
        content = part.get_payload(decode=True)
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(part.get_payload())
        match = re.search(r"^message-id:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
        value = match.group(1) if match else ""
    found = _MSGID.findall(value)
    return found[0] if found else ""
