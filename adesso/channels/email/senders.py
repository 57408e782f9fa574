"""Proving a From address before the operator's shared mail backend sends from it.

A channel with its own SMTP server sends with that server's login: the server decides
what it may send as. A channel without one sends through Django's EMAIL_BACKEND, the
operator's, which would send From any address an admin typed, another organisation's
too (issue 14, finding 3). So the address is proven first: a mail with a link is
sent to it (From the operator's DEFAULT_FROM_EMAIL), and only someone who reads that
mailbox can open it. Until then replies on the channel fail with the reason.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.channels.email.config import EmailConfig
from adesso.channels.email.models import SenderProof
from adesso.channels.models import Channel
from adesso.lib.codes import hash_secret

# A new proof mail is sent at most this often per address (a reply refused meanwhile
# does not send another).
RESEND_AFTER = dt.timedelta(hours=6)


def needs_proof(config: EmailConfig) -> bool:
    """Mail From this channel leaves through the shared backend (no SMTP of its own)."""
    return config.smtp is None


def is_proven(organization_id: int, address: str) -> bool:
    return SenderProof.objects.filter(
        organization_id=organization_id, address=address.lower(), verified_at__isnull=False
    ).exists()


def not_proven_reason(address: str) -> str:
    return _(
        "The channel's address %(address)s has not been proven yet: open the link in the mail sent to it "
        "(or give the channel its own SMTP server). Nothing is sent from it until then."
    ) % {"address": address}


def do_request_proof(channel: Channel, config: EmailConfig, force: bool = False) -> bool:
    """Send the proof mail to the channel's address, unless it is proven or one was sent
    lately; returns whether one was sent. Outside any transaction (it sends mail)."""
    address = config.address.lower()
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        proof = (
            SenderProof.objects.select_for_update()
            .filter(organization_id=channel.organization_id, address=address)
            .first()
        )
        if proof is not None and (
            proof.verified_at is not None or (not force and proof.requested_at > timezone.now() - RESEND_AFTER)
        ):
            return False
        if proof is None:
            try:
                with transaction.atomic():
                    SenderProof.objects.create(
                        organization_id=channel.organization_id, address=address, token_hash=hash_secret(token)
                    )
            except IntegrityError:
                return False  # a concurrent request sent it
        else:
            SenderProof.objects.filter(pk=proof.pk).update(token_hash=hash_secret(token), requested_at=timezone.now())
    link = settings.SITE_URL.rstrip("/") + f"/channels/email/{channel.code}/verify/{token}"
    body = _(
        "Someone at %(organization)s set up %(address)s as the address of the support channel "
        '"%(channel)s" in Adesso.\n\n'
        "If it was your organisation, open this link to confirm that replies may be sent from this address:\n"
        "%(link)s\n\nIf not, ignore this mail: nothing will be sent from your address."
    ) % {"address": address, "channel": channel.name, "link": link, "organization": channel.organization.name}
    EmailMessage(
        subject=_("Confirm the address %(address)s for Adesso") % {"address": address},
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"Auto-Submitted": "auto-generated"},
    ).send(fail_silently=False)
    return True


def proof_for_link(channel_code: str, token: str) -> SenderProof | None:
    """The pending proof a link names (the channel's organisation and address, the token)."""
    channel = Channel.objects.filter(code=channel_code, kind="email").first()
    if channel is None:
        return None
    address = str(channel.config.get("address", "")).lower()
    proof = SenderProof.objects.filter(organization_id=channel.organization_id, address=address).first()
    if proof is None or not secrets.compare_digest(proof.token_hash, hash_secret(token)):
        return None
    return proof


def do_prove(proof: SenderProof) -> None:
    SenderProof.objects.filter(pk=proof.pk, verified_at__isnull=True).update(verified_at=timezone.now())
