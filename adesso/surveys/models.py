"""Satisfaction surveys: one per resolved conversation, and each organisation's settings."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization
from adesso.channels.models import Channel
from adesso.contacts.models import Contact
from adesso.lib.codes import new_code


class Kind(models.TextChoices):
    CSAT = "csat", _("Satisfaction (CSAT, 1-5)")
    NPS = "nps", _("Recommendation (NPS, 0-10)")
    CES = "ces", _("Effort (CES, 1-7)")


# Each kind's scale, and what counts as a bad score (the agent is told of it).
SCALES: dict[str, tuple[int, int]] = {Kind.CSAT: (1, 5), Kind.NPS: (0, 10), Kind.CES: (1, 7)}


def is_bad(kind: str, score: int) -> bool:
    """CSAT 1-2, NPS 0-6 (detractors), CES 5-7 (high effort)."""
    if kind == Kind.NPS:
        return score <= 6
    if kind == Kind.CES:
        return score >= 5
    return score <= 2


class State(models.TextChoices):
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    REASONED = "reasoned", _("Answered with a reason")
    EXPIRED = "expired", _("Expired")


class SurveySettings(models.Model):
    """An organisation's surveys: the row with no channel is the default, a channel's
    own row overrides it. No row at all: CSAT, on, at most once per 30 days per contact."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CSAT)
    # At most one survey per contact in this many days (on any channel).
    interval_days = models.PositiveSmallIntegerField(default=30)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "channel"], name="survey_settings_per_channel"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(channel__isnull=True), name="survey_settings_default"
            ),
        ]


class Survey(models.Model):
    """The question sent after a resolution and what the customer answered."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="surveys")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    # The agent who handled the conversation: told of a bad score.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    language = models.CharField(max_length=8)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENT)
    score = models.SmallIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # The follow-up question "why?" went out: the next message is the reason.
    asked_reason = models.BooleanField(default=False)
    sent_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    reasoned_at = models.DateTimeField(null=True, blank=True)
    # Answers after this are not taken as answers (the conversation goes on as usual).
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["contact", "channel", "state"], name="survey_awaiting"),
            models.Index(fields=["contact", "sent_at"], name="survey_contact_recent"),
            models.Index(fields=["organization", "sent_at"], name="survey_org_sent"),
        ]

    def __str__(self) -> str:
        return f"survey {self.code}"

    @property
    def scale(self) -> tuple[int, int]:
        return SCALES[self.kind]

    def shown_state(self, now: dt.datetime | None = None) -> str:
        """The state as reported: one still unanswered past its time is expired."""
        if self.state == State.SENT and self.expires_at <= (now or timezone.now()):
            return State.EXPIRED
        return self.state
