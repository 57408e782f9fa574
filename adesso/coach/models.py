"""The reply coach's data: an organisation's own rules and settings, and what the coach
found in each reply agents sent (for supervisors' statistics)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization
from adesso.lib.codes import new_code


class OnSend(models.TextChoices):
    WARN = "warn", _("Ask for confirmation")
    BLOCK = "block", _("Block the reply")
    OFF = "off", _("Only show the advice")


class CoachSettings(models.Model):
    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="coach_settings")
    # What happens when an agent sends a public reply with a serious finding left in it.
    on_send = models.CharField(max_length=8, choices=OnSend.choices, default=OnSend.WARN)
    updated_at = models.DateTimeField(default=timezone.now)


class Severity(models.TextChoices):
    SERIOUS = "serious", _("Serious: confirm before sending")
    WARNING = "warning", _("Warning: advice only")


class CoachRule(models.Model):
    """An organisation's own forbidden phrases: a new pattern id of its own, or more
    phrases for a built-in one (then the built-in reason and rewrite apply unless
    these are given)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="coach_rules")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    pattern = models.CharField(max_length=40)
    language = models.CharField(max_length=2, choices=[("it", "Italiano"), ("en", "English")])
    phrases = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    suggestion = models.TextField(blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.SERIOUS)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "is_active"])]

    def __str__(self) -> str:
        return f"{self.pattern} ({self.language})"


class CoachRecord(models.Model):
    """What the coach said about one public reply an agent sent."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Kept when the message is erased (GDPR): the statistics hold no customer text.
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=2)
    score = models.SmallIntegerField()
    serious = models.SmallIntegerField(default=0)
    confirmed = models.BooleanField(default=False)  # sent although the coach warned
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="coach_record_org_time")]


class CoachFinding(models.Model):
    """One pattern found in a sent reply: the unit the statistics count."""

    record = models.ForeignKey(CoachRecord, on_delete=models.CASCADE, related_name="findings")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    pattern = models.CharField(max_length=40)
    severity = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="coach_finding_org_time")]


class CoachDismissal(models.Model):
    """An agent marked a finding as not applicable (one click in the reply box): counted
    per rule for supervisors, to see which rules misfire. No draft text is kept."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pattern = models.CharField(max_length=40)
    layer = models.CharField(max_length=12, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="coach_dismissal_org_time")]


class ExampleSource(models.TextChoices):
    DISMISSAL = "dismissal", _("Dismissed by an agent as not applicable")
    SUPERVISOR = "supervisor", _("Marked by a supervisor as an example")


class CoachExample(models.Model):
    """One of an organisation's own sentences labelled for one rule, to train its learned
    layer (`adesso traincoach --organisation`): a finding an agent dismissed as not
    applicable (the sentence does not say that: `positive` False), or a sentence a
    supervisor marked as an example of the rule (`positive` True). The sentence is the
    agent's draft, not the customer's message."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    pattern = models.CharField(max_length=40)
    language = models.CharField(max_length=2)
    text = models.TextField()
    positive = models.BooleanField()
    source = models.CharField(max_length=12, choices=ExampleSource.choices)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="coach_example_org_time")]


class CoachLearnedModel(models.Model):
    """An organisation's own learned layer, trained on the shipped sentences and its
    examples; used only when it scored at least as well as the shipped layer on the same
    held-out part of its examples."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    weights = models.BinaryField()
    examples = models.PositiveIntegerField()
    score = models.FloatField()  # its own, on the held-out part (share of examples decided right)
    shipped_score = models.FloatField()  # the shipped layer's, on the same part
    in_use = models.BooleanField(default=False)
    trained_at = models.DateTimeField(default=timezone.now)
