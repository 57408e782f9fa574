"""Mail in the way production takes it: stored as a raw inbound event (what a webhook or
the IMAP reader does), then processed by the pipeline's worker. What it became is read
back from the database, for tests that look at the message, the mail or the quarantine."""

from __future__ import annotations

from dataclasses import dataclass

from adesso.channels.email.actions import do_accept_mail
from adesso.channels.email.models import Mail
from adesso.channels.models import Channel, EventState, InboundEvent
from adesso.channels.pipeline import do_process_events
from adesso.conversations.models import Conversation, Message


@dataclass
class Got:
    message: Message
    conversation: Conversation


@dataclass
class Outcome:
    # "stored", "duplicate", "bounce", "report", "ours", "quarantined", or the event's state
    status: str
    event: InboundEvent
    mail: Mail | None = None
    received: Got | None = None

    @property
    def quarantine(self) -> InboundEvent | None:
        return self.event if self.status == "quarantined" else None


def process_mail() -> int:
    """Run the pipeline's worker until nothing is due."""
    return do_process_events()


def outcome_of(event: InboundEvent) -> Outcome:
    event.refresh_from_db()
    if event.state == EventState.QUARANTINED:
        return Outcome("quarantined", event)
    if event.state == EventState.IGNORED:
        return Outcome("ours", event)
    if event.state != EventState.PROCESSED:
        return Outcome(str(event.state), event)
    message = (
        Message.objects.select_related("conversation").filter(code=event.message_code).first()
        if event.message_code
        else None
    )
    received = Got(message, message.conversation) if message is not None else None
    if event.outcome in ("bounce", "report"):
        mail = Mail.objects.filter(channel=event.channel_id, incoming=True).exclude(kind="message").last()
        return Outcome(event.outcome, event, mail, received)
    if "had been received before" in event.note:
        return Outcome("duplicate", event, None, received)
    mail = Mail.objects.filter(message=message, incoming=True).first() if message is not None else None
    return Outcome("stored", event, mail, received)


def receive_mail(channel: Channel, raw: bytes, source: str = "test") -> Outcome:
    """Accept one raw mail as an inbound event and run the worker: what it became."""
    event, created = do_accept_mail(channel, raw, source)
    process_mail()
    outcome = outcome_of(event)
    if not created:  # the same bytes again: the same event, nothing new
        outcome.status, outcome.mail = "duplicate", None
    return outcome


def prove_sender(channel: Channel) -> None:
    """Prove the channel's address as its owner does: open the link of the proof mail
    that connecting sent to it (in Django's test outbox), then empty the outbox."""
    import re
    from urllib.parse import urlsplit

    from django.core import mail
    from django.test import Client

    address = str(channel.config["address"])
    [proof] = [m for m in mail.outbox if m.to == [address] and "/verify/" in m.body]
    link = re.search(r"https?://\S+/verify/\S+", proof.body)
    assert link is not None
    assert Client().post(urlsplit(link.group(0)).path).status_code == 200
    mail.outbox.clear()
