"""A channel is one connected account or address through which customers write."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization
from adesso.lib.codes import hash_secret, new_code


class Channel(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="channels")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    kind = models.CharField(max_length=32)  # a key of adesso.channels.registry.KINDS
    name = models.CharField(max_length=200)
    # Kind-specific settings, validated by the kind's config schema.
    config = models.JSONField(default=dict, blank=True)
    # SHA-256 of the secret the kind's inbound endpoint expects (never the secret).
    token_hash = models.CharField(max_length=64, blank=True)
    is_enabled = models.BooleanField(default=True)
    # Set when a permanent delivery error disabled the channel; shown to admins.
    disabled_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "kind"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def token_matches(self, secret: str) -> bool:
        import hmac

        return bool(self.token_hash) and hmac.compare_digest(self.token_hash, hash_secret(secret))

    @property
    def kind_label(self) -> Any:
        from adesso.channels.registry import get_kind

        try:
            return get_kind(self.kind).label
        except KeyError:
            return self.kind


CHANNEL_DISABLED = _("This channel is disabled")
