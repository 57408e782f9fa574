"""Our replies as mail: From the channel's address, threaded with In-Reply-To and
References, a Reply-To plus-address and a subject token that lead back to the
conversation; automatic messages marked so other robots do not answer them."""

from __future__ import annotations

import email.utils
from typing import TYPE_CHECKING

from django.core.mail import EmailMessage

from adesso.channels.email.config import EmailConfig
from adesso.channels.email.letter import letter
from adesso.channels.email.threads import our_message_id, reply_subject

if TYPE_CHECKING:
    from adesso.channels.email.models import Mail
    from adesso.conversations.models import Message

# References kept in a reply: the first of the thread and the latest ones.
MAX_REFERENCES = 20


def last_customer_mail(message: Message) -> Mail | None:
    from adesso.channels.email.models import Mail, MailKind

    return (
        Mail.objects.filter(message__conversation_id=message.conversation_id, incoming=True, kind=MailKind.MESSAGE)
        .order_by("-created_at", "-pk")
        .first()
    )


def recipient(message: Message, last: Mail | None) -> str:
    if last is not None and last.from_address:
        return last.from_address
    return message.conversation.contact.email


def build(config: EmailConfig, message: Message, last: Mail | None, to: str) -> EmailMessage:
    conversation = message.conversation
    message_id = our_message_id(message.code, conversation.code, config.domain)
    headers = {"Message-ID": f"<{message_id}>"}
    if config.plus_address:
        headers["Reply-To"] = email.utils.formataddr((config.from_name, config.reply_address(conversation.code)))
    if last is not None and last.msgid:
        references = [*last.references.split(), last.msgid]
        if len(references) > MAX_REFERENCES:
            references = [references[0], *references[-(MAX_REFERENCES - 1) :]]
        headers["In-Reply-To"] = f"<{last.msgid}>"
        headers["References"] = " ".join(f"<{r}>" for r in references)
    if message.auto:
        # RFC 3834: an automatic answer; Exchange's own flag asks it not to answer back.
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    subject = reply_subject(conversation.subject or (last.subject if last is not None else ""), conversation.code)
    # An automatic message (acknowledgement, update) is written for every channel: as a
    # mail it gets a greeting line and a sign-off. What an agent wrote goes as written.
    body = message.text
    if message.auto:
        body = letter(
            message.text,
            name=conversation.contact.name,
            signer=config.from_name or conversation.organization.name,
            language=conversation.language,
        )
    mail = EmailMessage(
        subject=subject,
        body=body,
        from_email=email.utils.formataddr((config.from_name, config.address)),
        to=[to],
        headers=headers,
    )
    for item in message.attachments.order_by("pk"):  # an agent's files (checked on the way in)
        with item.file.open("rb") as f:
            mail.attach(item.filename, f.read(), item.content_type)
    return mail
