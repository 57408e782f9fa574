"""A channel is one connected account or address through which customers write."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization
from adesso.channels.secrets import ChannelConfigField
from adesso.lib.codes import hash_secret, new_code


class Channel(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="channels")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    kind = models.CharField(max_length=32)  # a key of adesso.channels.registry.KINDS
    name = models.CharField(max_length=200)
    # Kind-specific settings, validated by the kind's config schema.
    # Its secrets (the schema's `secret_field`s) are encrypted at rest (channels/secrets.py).
    config = ChannelConfigField(default=dict, blank=True)
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

    @property
    def capabilities(self) -> dict[str, Any]:
        """What the kind can do (attachments, templates, public replies, a reply window,
        typing, edits): what templates and views ask instead of the kind's name."""
        from adesso.channels.registry import get_kind

        try:
            return get_kind(self.kind).capabilities()
        except KeyError:
            return {}

    @property
    def inbound_url(self) -> str | None:
        from adesso.channels.registry import inbound_url

        return inbound_url(self)


CHANNEL_DISABLED = _("This channel is disabled")


class EventState(models.TextChoices):
    ACCEPTED = "accepted", _("Waiting")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    # The last attempt failed; tried again at next_attempt_at.
    FAILED = "failed", _("Failed, will retry")
    # Failed too often, or can never succeed: waits for a person to replay it.
    QUARANTINED = "quarantined", _("Quarantined")


# States a worker may claim an event in (when due and not leased).
PENDING_STATES = (EventState.ACCEPTED, EventState.FAILED)


class InboundEvent(models.Model):
    """One raw event from a provider, stored as received before anything else happens
    (adesso/channels/pipeline.py): accepted by the web request with one INSERT,
    processed by a worker, each outcome recorded.

    `next_attempt_at` is the due column workers poll (null once nothing is due);
    `leased_until` and `lease` mark the worker processing it (compare-and-set).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Not indexed alone: the unique (channel, external_id) and Meta's index start with it.
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="inbound_events", db_index=False)
    code = models.CharField(max_length=16, unique=True, default=new_code)
    # The provider's id for the event (Telegram's update_id): a repeat is the same event.
    external_id = models.CharField(max_length=200)
    # Events of one sender are processed in `position` order (the provider's order).
    sender_key = models.CharField(max_length=200, blank=True)
    position = models.BigIntegerField(default=0)
    headers = models.JSONField(default=dict, blank=True)  # what the kind needs of them
    body = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=12, choices=EventState.choices, default=EventState.ACCEPTED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=16, blank=True)
    # What processing made of it: "message", "edit", "status", "reaction" (comma-separated
    # when one event held several), the message's code, why it was ignored, the last error.
    outcome = models.CharField(max_length=100, blank=True)
    message_code = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="inbound_event_unique_per_channel"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="inbound_event_due", condition=Q(next_attempt_at__isnull=False)
            ),
            models.Index(
                fields=["sender_key", "position"],
                name="inbound_event_sender",
                condition=Q(next_attempt_at__isnull=False),
            ),
            models.Index(fields=["channel", "state", "received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.external_id} ({self.state})"


class ProcessingWanted(models.Model):
    """One row (id 1) while a processing task has been asked for and has not started:
    accepting a burst of events enqueues one task, not one each (pipeline.kick_after_commit)."""

    id = models.PositiveSmallIntegerField(primary_key=True)
