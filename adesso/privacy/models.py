"""An organisation's privacy settings: retention, redaction and two-factor login."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization


class TwoFactorPolicy(models.TextChoices):
    OPTIONAL = "optional", _("Optional for everyone")
    ADMINS = "admins", _("Required for admins")
    EVERYONE = "everyone", _("Required for everyone")


class PrivacySettings(models.Model):
    """One row per organisation (created with defaults when first read).

    Retention periods are off (None) until an admin sets them; `retention_due_at` is
    the due column the timer tick polls: one run a day per organisation that has any.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="privacy")
    # Resolved conversations lose their content (texts, files, raw mails) after this many
    # months; the rows stay, empty, so reports still count them.
    resolved_conversation_months = models.PositiveSmallIntegerField(null=True, blank=True)
    # Raw inbound events (provider payloads) are deleted this many days after processing.
    inbound_event_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # The audit log itself is kept this many days (None: for ever).
    audit_days = models.PositiveSmallIntegerField(null=True, blank=True)
    retention_due_at = models.DateTimeField(null=True, blank=True)
    # Kinds of personal data hidden in exports for third parties and in analytics
    # (adesso.privacy.redact.KINDS).
    redact_kinds = models.JSONField(default=list, blank=True)
    two_factor = models.CharField(max_length=16, choices=TwoFactorPolicy.choices, default=TwoFactorPolicy.OPTIONAL)

    class Meta:
        verbose_name_plural = "privacy settings"
        indexes = [
            models.Index(
                fields=["retention_due_at"], name="privacy_retention_due", condition=Q(retention_due_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"privacy of {self.organization_id}"

    @property
    def has_retention(self) -> bool:
        return any(v is not None for v in (self.resolved_conversation_months, self.inbound_event_days, self.audit_days))


def privacy_of(organization_id: int) -> PrivacySettings:
    found, _created = PrivacySettings.objects.get_or_create(organization_id=organization_id)
    return found
