"""The transcript of a web chat, mailed to the visitor when they ask (the widget's
button, at the end of the conversation): every public message of their latest
conversation on the channel, never an internal note, through the same outbound path as
a reply to a visitor who has left (offline.py: the site's mail backend, the company's
name, the organisation's email channel as Reply-To)."""

from __future__ import annotations

import email.utils
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

if TYPE_CHECKING:
    from adesso.channels.models import Channel
    from adesso.conversations.models import Conversation

# Written in the customer's language, not gettext (as the offline note).
TEXTS = {
    "it": {
        "subject": "La trascrizione della tua chat con {company}",
        "intro": "Ecco la conversazione con {company} del {day}, come richiesto.",
        "you": "Tu",
        "file": "allegato",
        "end": "Per continuare, rispondi a questa email o riapri la chat sul sito.",
    },
    "en": {
        "subject": "The transcript of your chat with {company}",
        "intro": "Here is your conversation with {company} of {day}, as you asked.",
        "you": "You",
        "file": "attachment",
        "end": "To continue, answer this email or open the chat on the site again.",
    },
}
# The most a transcript holds (the oldest are left out past it, and said so).
MAX_MESSAGES = 500


def latest_conversation(channel: Channel, contact_id: int) -> Conversation | None:
    from adesso.conversations.models import Conversation

    return (
        Conversation.objects.filter(
            organization_id=channel.organization_id, channel_id=channel.pk, contact_id=contact_id
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def transcript_text(channel: Channel, conversation: Conversation, language: str) -> str:
    from adesso.conversations.models import Direction, Message

    words = TEXTS[language if language in TEXTS else "it"]
    company = str(channel.config.get("company_name") or channel.name)
    rows = list(
        Message.objects.filter(conversation=conversation, internal=False)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("-pk")[:MAX_MESSAGES]
    )[::-1]
    day = timezone.localtime(conversation.created_at).strftime("%d/%m/%Y")
    lines = [words["intro"].format(company=company, day=day), ""]
    for m in rows:
        if m.direction == Direction.INCOMING:
            who = words["you"]
        elif m.author is not None:
            who = m.author.display_name.split(" ")[0]
        else:
            who = company
        at = timezone.localtime(m.created_at).strftime("%H:%M")
        text = m.text.strip()
        files = [f"[{words['file']}: {a.filename}]" for a in m.attachments.all()]
        lines.append(f"[{at}] {who}: " + " ".join(p for p in [text, *files] if p))
    lines += ["", words["end"]]
    return "\n".join(lines) + "\n"


def mail_transcript(channel: Channel, conversation: Conversation, to: str, language: str) -> None:
    """Sends it (raises what the mail backend raises: the view says it was not sent)."""
    from adesso.channels.email.threads import reply_subject
    from adesso.channels.webchat.offline import _reply_to

    words = TEXTS[language if language in TEXTS else "it"]
    company = str(channel.config.get("company_name") or channel.name)
    _name, sender = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    reply_to = _reply_to(channel, conversation)
    EmailMessage(
        # The conversation's code in the subject: an answer threads back into it.
        subject=reply_subject(words["subject"].format(company=company), conversation.code).removeprefix("Re: "),
        body=transcript_text(channel, conversation, language),
        from_email=email.utils.formataddr((company, sender or "adesso@localhost")),
        to=[to],
        reply_to=[reply_to] if reply_to else None,
    ).send()
