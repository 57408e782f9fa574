"""Built-in wording of the automatic messages, and how a template becomes a message.

Placeholders: {name} (the customer's first name), {estimate} ("12 minuti"),
{time} ("14:30", "09:00 di domani"), {queue} (the queue position, only when the
customer asked for it), {organization}. Templates are per language, not
gettext: the customer's language is not the agent's.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.autoreply.models import Purpose
from adesso.lib.errors import ActionError

PLACEHOLDERS = ("name", "estimate", "time", "queue", "organization")

DEFAULTS: dict[tuple[str, str], str] = {
    (Purpose.ACK, "it"): (
        "Ciao {name}, abbiamo ricevuto il tuo messaggio. Una persona del nostro team ti risponderà "
        "entro {estimate} (verso le {time}).{queue} Questo è un messaggio automatico."
    ),
    (Purpose.ACK, "en"): (
        "Hi {name}, we have your message. A person from our team will answer within {estimate} "
        "(by about {time}).{queue} This is an automatic message."
    ),
    (Purpose.UPDATE, "it"): (
        "Ci stiamo mettendo più del previsto e ce ne scusiamo. Una persona ti risponderà entro "
        "{estimate} (verso le {time}).{queue} Questo è un messaggio automatico."
    ),
    (Purpose.UPDATE, "en"): (
        "This is taking longer than we told you, and we are sorry. A person will answer within "
        "{estimate} (by about {time}).{queue} This is an automatic message."
    ),
}

# The customer asked where they are in the line, or how long it takes.
ASKS_POSITION = re.compile(
    r"\b(posizione|in coda|in fila|quant[ie]\s+(persone\s+)?(ci\s+sono\s+|sono\s+|ho\s+)?(prima|davanti)"
    r"|quanto\s+(devo\s+)?(aspettare|attendere|manca|ci\s+vuole)"
    r"|position|in\s+(the\s+)?(queue|line)|how\s+many\s+(people\s+)?(are\s+)?(ahead|before|in\s+front)"
    r"|how\s+long\s+(will|do|must|should)\s+i\s+(have\s+to\s+)?wait)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Filling:
    name: str
    minutes: int
    at: dt.datetime
    position: int  # 0: already with an agent
    agent: str
    organization: str
    asked_position: bool


def duration(minutes: int, language: str) -> str:
    hours, rest = divmod(minutes, 60)
    if language == "it":
        parts = ([f"{hours} or{'a' if hours == 1 else 'e'}"] if hours else []) + (
            [f"{rest} minut{'o' if rest == 1 else 'i'}"] if rest else [])
        return " e ".join(parts)
    parts = ([f"{hours} hour{'' if hours == 1 else 's'}"] if hours else []) + (
        [f"{rest} minute{'' if rest == 1 else 's'}"] if rest else [])
    return " ".join(parts)


def clock(at: dt.datetime, now: dt.datetime, language: str) -> str:
    local, today = timezone.localtime(at), timezone.localtime(now).date()
    hhmm = local.strftime("%H:%M")
    days = (local.date() - today).days
    if days <= 0:
        return hhmm
    if days == 1:
        return f"{hhmm} di domani" if language == "it" else f"{hhmm} tomorrow"
    day = local.strftime("%d/%m")
    return f"{hhmm} del {day}" if language == "it" else f"{hhmm} on {day}"


def queue_sentence(filling: Filling, language: str) -> str:
    if not filling.asked_position:
        return ""
    if filling.position == 0:
        if language == "it":
            return f" La tua conversazione è già nelle mani di {filling.agent}."
        return f" Your conversation is already with {filling.agent}."
    if language == "it":
        return f" Sei il numero {filling.position} in coda."
    return f" You are number {filling.position} in the queue."


def render(template: str, filling: Filling, language: str, now: dt.datetime) -> str:
    values = {
        "name": filling.name, "estimate": duration(filling.minutes, language),
        "time": clock(filling.at, now, language), "queue": queue_sentence(filling, language),
        "organization": filling.organization,
    }
    text = fill(template, values)
    # An unknown name leaves "Ciao ," behind: tidy the spaces before punctuation.
    return re.sub(r"[ \t]+([,.!?;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


def fill(template: str, values: dict[str, str]) -> str:
    """Each plain {placeholder} replaced by its value; never str.format: a format spec
    ({name:x>5000000}), a conversion, an attribute or an index would run on our data.
    Templates are checked when saved; one stored before that check is filled the same
    way, with anything but a known name left out."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return template
    return "".join(literal + (values.get(field, "") if field is not None else "") for literal, field, _s, _c in parts)


def validate_template(text: str) -> str:
    """The template as it will be stored, or ActionError saying what is wrong with it."""
    text = text.strip()
    if not text:
        raise ActionError(_("The message is empty."), "empty")
    if len(text) > 1000:
        raise ActionError(_("The message is longer than 1,000 characters."), "too_long")
    try:
        parsed = [(f, spec, conv) for _lit, f, spec, conv in string.Formatter().parse(text) if f is not None]
    except ValueError:
        raise ActionError(_("Unbalanced braces: write placeholders as {estimate}."), "invalid_template") from None
    if any(spec or conv for _f, spec, conv in parsed):
        raise ActionError(
            _("Write placeholders plainly, as {estimate}: no format options after the name."), "invalid_template"
        )
    fields = [f for f, _spec, _conv in parsed]
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        raise ActionError(
            _("Unknown placeholder(s): %(names)s. Use: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join("{" + p + "}" for p in PLACEHOLDERS)},
            "invalid_template",
        )
    if "estimate" not in fields and "time" not in fields:
        raise ActionError(
            _("Say when a person will answer: the message needs {estimate} or {time}."), "invalid_template"
        )
    return text
