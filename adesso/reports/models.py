"""What the reports need stored: only which day's digest each organisation was sent."""

from __future__ import annotations

from django.db import models

from adesso.accounts.models import Organization


class DigestRun(models.Model):
    """The supervisors' daily digest of one organisation: the last local day it went out.

    Claimed with compare-and-set on `sent_for`, so two timer processes never send
    the same day's digest twice.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="digest_run")
    sent_for = models.DateField()
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"digest {self.organization_id} {self.sent_for}"
