"""The only way views fetch the email channel's rows: scoped to the agent's
organisation; quarantine and mailbox state to supervisors and admins."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from adesso.accounts.models import User
from adesso.channels.email.models import Mail, Mailbox, Quarantine
from adesso.channels.models import Channel, EventState, InboundEvent
from adesso.conversations.models import Message


def access_mails_of_message(user: User, code: str) -> tuple[Message, list[Mail]]:
    """A message of the agent's organisation and its mails (the mail itself, or the
    mail we sent and its bounces), oldest first. 404 when it has none."""
    message = (
        Message.objects.select_related("conversation", "channel")
        .filter(organization_id=user.organization_id, code=code, internal=False)
        .first()
    )
    if message is None:
        raise Http404("No such message")
    mails = list(
        Mail.objects.filter(organization_id=user.organization_id, message=message).order_by("created_at", "pk")
    )
    if not mails:
        raise Http404("This message has no original mail")
    return message, mails


def access_mail_by_code(user: User, code: str) -> Mail:
    try:
        return Mail.objects.get(organization_id=user.organization_id, code=code)
    except Mail.DoesNotExist:
        raise Http404("No such mail") from None


def _require_supervisor(user: User) -> None:
    if not user.is_supervisor:
        raise PermissionDenied("Only supervisors and admins see quarantined mail")


@dataclass
class QuarantinedMail:
    """A mail that could not become a message: a quarantined inbound event of an email
    channel (its body is the raw mail), or a row kept from before the pipeline."""

    code: str
    created_at: object
    channel: Channel
    reason: str
    source: str
    size: int
    raw: bytes | None = None  # the event's body; legacy rows keep a file


def quarantine_for(user: User, limit: int = 200) -> list[QuarantinedMail]:
    """The organisation's quarantined mail, newest first (supervisors and admins)."""
    _require_supervisor(user)
    events = (
        InboundEvent.objects.filter(
            organization_id=user.organization_id, channel__kind="email", state=EventState.QUARANTINED
        )
        .select_related("channel")
        .defer("body")
        .order_by("-received_at", "-pk")[:limit]
    )
    rows = [
        QuarantinedMail(e.code, e.received_at, e.channel, e.error, str(e.headers.get("source", "")), 0) for e in events
    ]
    legacy = Quarantine.objects.filter(organization_id=user.organization_id).select_related("channel")
    rows += [
        QuarantinedMail(q.code, q.created_at, q.channel, q.reason, q.source, q.size)
        for q in legacy.order_by("-created_at", "-pk")[:limit]
    ]
    return rows


def access_quarantine_by_code(user: User, code: str) -> QuarantinedMail | Quarantine:
    """A quarantined mail of the organisation, with its raw bytes (an event's body) or
    its file (a legacy row); 404 otherwise."""
    _require_supervisor(user)
    event = (
        InboundEvent.objects.filter(
            organization_id=user.organization_id, channel__kind="email", state=EventState.QUARANTINED, code=code
        )
        .select_related("channel")
        .first()
    )
    if event is not None:
        body = bytes(event.body)
        return QuarantinedMail(
            event.code,
            event.received_at,
            event.channel,
            event.error,
            str(event.headers.get("source", "")),
            len(body),
            body,
        )
    try:
        return Quarantine.objects.select_related("channel").get(organization_id=user.organization_id, code=code)
    except Quarantine.DoesNotExist:
        raise Http404("No such quarantined mail") from None


def mailboxes_for(user: User) -> QuerySet[Mailbox]:
    _require_supervisor(user)
    return Mailbox.objects.filter(channel__organization_id=user.organization_id).select_related("channel")
