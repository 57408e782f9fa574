"""Conversations, their messages and the append-only event log of each."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization, Team
from adesso.channels.models import Channel
from adesso.contacts.models import Contact
from adesso.lib.codes import new_code


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


# Statuses in which a new customer message joins the conversation.
ACTIVE_STATUSES = (Status.OPEN, Status.PENDING, Status.SNOOZED)


class Priority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")
    URGENT = 3, _("Urgent")


class Tag(models.Model):
    """A label an organisation puts on conversations ("rimborso", "vip"): lower case,
    unique per organisation."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    code = models.CharField(max_length=16, unique=True, default=new_code)
    name = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="tag_name_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    # Not indexed alone: the composite indexes of Meta start with it (one index fewer to
    # write with each row: the inbound pipeline writes these rows by the thousand).
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, db_index=False)
    code = models.CharField(max_length=16, unique=True, default=new_code)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations", db_index=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_conversations",
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    language = models.CharField(max_length=8, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    # Preview of the latest message, so the inbox needs no per-row query.
    last_message_preview = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Since when the customer has been waiting for a human answer (None: not waiting).
    waiting_since = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_message_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Service level (adesso.sla.engine keeps these; due columns, indexed).
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True)  # the earliest of the three
    sla_breached = models.BooleanField(default=False)
    # When the timer loop must look at this conversation next (a warning or a breach).
    sla_check_at = models.DateTimeField(null=True, blank=True)
    sla_state = models.JSONField(default=dict, blank=True)  # the clocks, see adesso.sla.engine
    # Routing: set while the conversation waits in the queue for a free agent.
    queued_at = models.DateTimeField(null=True, blank=True)
    # A skill the assignee must have (e.g. "billing"); empty: anyone.
    skill = models.CharField(max_length=40, blank=True)
    # What the last acknowledgement promised: a human answer by `promise_at`. The
    # timer looks again at `promise_check_at`, before the promise can break.
    promise_at = models.DateTimeField(null=True, blank=True)
    promise_check_at = models.DateTimeField(null=True, blank=True)
    # Tags: the join table answers filters and counts; `tag_names` (sorted, kept by
    # adesso.conversations.tagging in the same transaction) lets lists show them with
    # no query per row.
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    tag_names = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "status", "waiting_since"]),
            models.Index(fields=["organization", "assignee", "status", "waiting_since"]),
            models.Index(fields=["organization", "team", "status", "waiting_since"]),
            models.Index(fields=["organization", "-updated_at"]),
            models.Index(fields=["organization", "created_at"], name="conv_org_created"),  # reports
            models.Index(fields=["contact", "channel", "status"]),
            models.Index(
                fields=["snoozed_until"], name="conv_snoozed_due",
                condition=Q(snoozed_until__isnull=False),
            ),
            models.Index(
                fields=["sla_check_at"], name="conv_sla_check_due",
                condition=Q(sla_check_at__isnull=False),
            ),
            models.Index(fields=["organization", "status", "sla_due_at"], name="conv_sla_due"),
            models.Index(fields=["organization", "queued_at"], name="conv_queue",
                         condition=Q(queued_at__isnull=False)),
            models.Index(fields=["promise_check_at"], name="conv_promise_check",
                         condition=Q(promise_check_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.code}"

    def waiting_seconds(self, now: dt.datetime | None = None) -> int | None:
        if self.waiting_since is None:
            return None
        return max(0, int(((now or timezone.now()) - self.waiting_since).total_seconds()))


class Direction(models.TextChoices):
    INCOMING = "incoming", _("Incoming")
    OUTGOING = "outgoing", _("Outgoing")


class DeliveryStatus(models.TextChoices):
    NONE = "", _("Not applicable")
    PENDING = "pending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The provider may or may not have it: see adesso.outbox.
    UNKNOWN = "unknown", _("Not confirmed")


class Message(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    # Not indexed alone: Meta's (conversation, created_at) index starts with it.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    # An internal note: seen by agents only, never sent, never an answer.
    internal = models.BooleanField(default=False)
    # Written by Adesso itself (an acknowledgement): never counts as a human answer.
    auto = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The provider's id for this message: unique per channel, makes intake idempotent.
    external_id = models.CharField(max_length=200, null=True, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)  # sanitised before it is stored
    # For a human answer: the seconds its author spent on it (since the customer's turn
    # began or the author's previous answer, whichever is later). Feeds the estimates.
    handle_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)  # the provider's time, if given
    delivery_status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE, blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="message_external_id_unique_per_channel",
                condition=Q(external_id__isnull=False),
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["organization", "-created_at"], name="msg_handled",
                         condition=Q(handle_seconds__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.code}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Where an attachment is stored. The sender's file name is kept as `filename` for
    display; on disk only a plain ASCII form of it, since storage refuses names such as
    "..", "a/../b" or one made only of symbols (a 500 for the sender otherwise)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip("._")[:100] or "attachment"
    return f"attachments/{instance.organization_id}/{new_code(16)}/{name}"


class Attachment(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()


class EventKind(models.TextChoices):
    CREATED = "created", _("Conversation started")
    MESSAGE_RECEIVED = "message_received", _("Message received")
    MESSAGE_SENT = "message_sent", _("Reply sent")
    NOTE_ADDED = "note_added", _("Internal note")
    ASSIGNED = "assigned", _("Assigned")
    TRANSFERRED = "transferred", _("Transferred")
    STATUS_CHANGED = "status_changed", _("Status changed")
    SNOOZED = "snoozed", _("Snoozed")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    CONTACT_MERGED = "contact_merged", _("Contact merged")
    CONTACT_UNMERGED = "contact_unmerged", _("Contact merge undone")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    AUTO_SENT = "auto_sent", _("Automatic message sent")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    QUEUED = "queued", _("Waiting for a free agent")
    TAGGED = "tagged", _("Tag added")
    UNTAGGED = "untagged", _("Tag removed")
    SURVEY_SENT = "survey_sent", _("Survey sent")
    SURVEY_ANSWERED = "survey_answered", _("Survey answered")
    SURVEY_REASON = "survey_reason", _("Survey reason given")


class ConversationEvent(models.Model):
    """Append-only: one row per thing that happened. Never updated or deleted."""

    # Not indexed alone: Meta's composite indexes start with each.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, db_index=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["organization", "kind", "created_at"]),
        ]
