"""The only way views fetch the email channel's rows: scoped to the agent's
organisation; quarantine and mailbox state to supervisors and admins."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from adesso.accounts.models import User
from adesso.channels.email.models import Mail, Mailbox, Quarantine
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


def quarantine_for(user: User) -> QuerySet[Quarantine]:
    _require_supervisor(user)
    return Quarantine.objects.filter(organization_id=user.organization_id).select_related("channel")


def access_quarantine_by_code(user: User, code: str) -> Quarantine:
    try:
        return quarantine_for(user).get(code=code)
    except Quarantine.DoesNotExist:
        raise Http404("No such quarantined mail") from None


def mailboxes_for(user: User) -> QuerySet[Mailbox]:
    _require_supervisor(user)
    return Mailbox.objects.filter(channel__organization_id=user.organization_id).select_related("channel")
