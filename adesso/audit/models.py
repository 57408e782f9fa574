"""The audit log: who looked at or changed what, append-only (docs/privacy.md).

It names objects by their public code and kind, never by a person's name or
address: an erased contact must leave no trace here either.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization


class AuditAction(models.TextChoices):
    CONTACT_CHANGED = "contact_changed", _("Contact changed")
    CONTACT_MERGED = "contact_merged", _("Contacts merged")
    CONTACT_UNMERGED = "contact_unmerged", _("Contact merge undone")
    CONSENT_CHANGED = "consent_changed", _("Consent changed")
    EXPORT_VIEWED = "export_viewed", _("Contact export viewed")
    CONTACT_EXPORTED = "contact_exported", _("Contact exported")
    CONTACT_ERASED = "contact_erased", _("Contact erased")
    ROLE_CHANGED = "role_changed", _("Role changed")
    AGENT_INVITED = "agent_invited", _("Agent invited")
    AGENT_DEACTIVATED = "agent_deactivated", _("Agent deactivated")
    AGENT_REACTIVATED = "agent_reactivated", _("Agent reactivated")
    CHANNEL_CREATED = "channel_created", _("Channel created")
    CHANNEL_CHANGED = "channel_changed", _("Channel changed")
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    RETENTION_RUN = "retention_run", _("Retention applied")
    TWO_FACTOR_ENABLED = "two_factor_enabled", _("Two-factor login enabled")
    TWO_FACTOR_DISABLED = "two_factor_disabled", _("Two-factor login disabled")
    RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")


class AuditEntry(models.Model):
    """One thing a person (or the system, actor None) did. Never updated or deleted,
    except by the organisation's retention of the log itself."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The actor's login at the time: the entry still says who after the agent is gone.
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    # What it was done to: a kind ("contact", "agent", "channel", "organization") and its code.
    object_kind = models.CharField(max_length=16)
    object_code = models.CharField(max_length=16, blank=True)
    # Details without personal data: field names changed, roles before and after, counts.
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_time"),
            models.Index(fields=["organization", "action", "-created_at"], name="audit_org_action"),
            models.Index(fields=["organization", "object_code"], name="audit_org_object"),
            models.Index(fields=["organization", "actor", "-created_at"], name="audit_org_actor"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.object_kind}:{self.object_code}"
