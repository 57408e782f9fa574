"""An organisation's own wording of the automatic messages (acknowledgement, update)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization


class Purpose(models.TextChoices):
    ACK = "ack", _("Acknowledgement")
    UPDATE = "update", _("Update before a promise breaks")


class AutoReplyTemplate(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    language = models.CharField(max_length=8, choices=[("it", "Italiano"), ("en", "English")])
    text = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "purpose", "language"], name="autoreply_unique")
        ]
