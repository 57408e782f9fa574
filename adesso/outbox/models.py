"""The outbox: one row per send of an outgoing message, with its attempts and due time."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization
from adesso.channels.models import Channel
from adesso.conversations.models import Message


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The request may have reached the provider but no answer came back.
    UNKNOWN = "unknown", _("Result unknown")


# States a worker may claim a row from (a row in UNKNOWN only when it was scheduled again).
CLAIMABLE = (DeliveryState.QUEUED, DeliveryState.UNKNOWN)


class Delivery(models.Model):
    """A send of `message` on `channel`.

    `next_attempt_at` is the due column the timer polls: for a queued or unknown row,
    when to try again; for a sending row, when the worker's lease ends (past it, the
    worker is presumed dead and the result unknown); None when nothing is due.
    `dispatched_at` is set when a worker job is asked for (the one claim it allows),
    cleared by the claim.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=DeliveryState.choices, default=DeliveryState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_delivery_due",
                condition=Q(next_attempt_at__isnull=False),
            ),
            models.Index(fields=["organization", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"delivery of {self.message_id} ({self.status})"
