"""What the email channel keeps besides the core's messages: where each mailbox was
read up to, every mail's original and threading headers, and mail that could not
be stored (quarantine)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization
from adesso.channels.models import Channel
from adesso.conversations.models import Message
from adesso.lib.codes import new_code


def raw_path(instance: models.Model, filename: str) -> str:
    return f"mail/{instance.organization_id}/{new_code(16)}.eml"  # type: ignore[attr-defined]


class Mailbox(models.Model):
    """How far a channel's IMAP folder was read: `UIDVALIDITY:UID` of the last mail
    stored. Moved forward in the transaction that stores the mail, so a fetcher
    killed mid-batch neither loses nor repeats one."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="email_mailbox")
    folder = models.CharField(max_length=255, default="INBOX")
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    checked_at = models.DateTimeField(null=True, blank=True)
    # The last connection or login error, shown to admins (never a secret).
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.channel_id} {self.folder} {self.uidvalidity}:{self.last_uid}"

    @property
    def position(self) -> str:
        return f"{self.uidvalidity or 0}:{self.last_uid}"


class MailKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    BOUNCE = "bounce", _("Bounce")
    REPORT = "report", _("Delivery report")


class Mail(models.Model):
    """One mail received or sent on an email channel: its original (an .eml file under
    MEDIA_ROOT) and the headers that thread it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    # The conversation message it is (a customer's mail, our reply), or the outgoing
    # message a bounce refers to.
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="mails")
    kind = models.CharField(max_length=8, choices=MailKind.choices, default=MailKind.MESSAGE)
    incoming = models.BooleanField(default=True)
    # Message-ID without angle brackets (or a digest of the raw mail when it has none).
    key = models.CharField(max_length=255)
    msgid = models.CharField(max_length=255, blank=True)
    in_reply_to = models.TextField(blank=True)
    references = models.TextField(blank=True)  # space-separated, oldest first
    from_address = models.CharField(max_length=254, blank=True)
    # The recipient of a mail we sent (a bounce without the original's Message-ID is
    # matched by it).
    to_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    # Why the mail counts as sent by a machine ("" when a person wrote it).
    automated = models.CharField(max_length=100, blank=True)
    # How it was threaded (e.g. "references", "plus-address", "subject", "new").
    threaded_by = models.CharField(max_length=32, blank=True)
    # Where it came from: "imap:UIDVALIDITY:UID" or "webhook:<provider>".
    source = models.CharField(max_length=100, blank=True)
    raw = models.FileField(upload_to=raw_path, max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    # Inline images: Content-ID -> the core Attachment's code.
    inline = models.JSONField(default=dict, blank=True)
    # A bounce's details: recipients, status, diagnostic.
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "incoming", "key"], name="email_mail_unique_key"),
        ]
        indexes = [models.Index(fields=["channel", "msgid"])]

    def __str__(self) -> str:
        return f"{self.kind} <{self.msgid}>"


class Quarantine(models.Model):
    """A mail that could not become a message: kept whole, with the reason, for admins."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    # SHA-256 of the raw bytes: the same mail fetched again is quarantined once.
    digest = models.CharField(max_length=64)
    reason = models.TextField()
    source = models.CharField(max_length=100, blank=True)
    raw = models.FileField(upload_to=raw_path, max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "digest"], name="email_quarantine_unique_digest"),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"quarantined {self.code}: {self.reason[:60]}"


class SenderProof(models.Model):
    """An organisation's proof that it owns an address it sends from through the
    operator's shared mail backend (a channel without its own SMTP server): the link
    of a mail sent to that address was opened. Until then nothing leaves From it, so
    one tenant cannot send as another (issue 14, finding 3)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    address = models.CharField(max_length=254)
    # SHA-256 of the secret in the link (never the secret).
    token_hash = models.CharField(max_length=64)
    requested_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "address"], name="email_sender_proof_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({'proven' if self.verified_at else 'not proven'})"
