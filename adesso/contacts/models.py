"""One customer, known by many addresses across channels."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization
from adesso.lib.codes import new_code


class Tier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    LOYAL = "loyal", _("Loyal")
    VIP = "vip", _("VIP")


class Consent(models.TextChoices):
    UNKNOWN = "", _("Not recorded")
    GIVEN = "given", _("Given")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Contact(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contacts")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    name = models.CharField(max_length=200, blank=True)
    # Primary addresses shown to agents. The identities are what intake matches on.
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=8, blank=True)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    notes = models.TextField(blank=True)
    # Consent to processing beyond answering (e.g. marketing, surveys), and how it was
    # obtained; processing notes: legal basis, restrictions asked for (docs/privacy.md).
    consent = models.CharField(max_length=16, choices=Consent.choices, default=Consent.UNKNOWN, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(max_length=200, blank=True)
    processing_notes = models.TextField(blank=True)
    # Set when the contact was erased (right to erasure): the row stays, empty, so that
    # reports still count its conversations.
    erased_at = models.DateTimeField(null=True, blank=True)
    # Set while this contact is merged into another; cleared by undoing the merge.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_contacts"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "email"]),
            models.Index(fields=["organization", "phone"]),
            models.Index(fields=["organization", "-updated_at"]),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.erased_at is not None:
            label = gettext("Erased contact")
            return f"{label} {self.code}"
        return self.name or self.email or self.phone or self.code


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    API = "api", _("API")


class ContactIdentity(models.Model):
    """An address (email, phone, a channel's handle) known to belong to a contact.

    Unique per organisation: an address leads to one contact. Values are
    normalised (see adesso.lib.addresses); `api` values are qualified by the
    channel code because client ids only mean something inside one channel.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=32)
    value = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the channel said it cannot deliver to this address any more (Telegram's
    # 403: the customer blocked the bot), and why; cleared when the customer writes again.
    unreachable_at = models.DateTimeField(null=True, blank=True)
    unreachable_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "value"], name="identity_unique_per_org"
            )
        ]
        verbose_name_plural = "contact identities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class ContactMerge(models.Model):
    """A merge of `source` into `target`, with what moved, so it can be undone."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    source = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merges_as_source")
    target = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merges_as_target")
    moved_identity_ids = models.JSONField(default=list)
    moved_conversation_ids = models.JSONField(default=list)
    # The target's details that the merge filled in from the source, as they were
    # before (field -> old value), so an undo can put them back.
    target_before = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
