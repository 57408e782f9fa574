"""What the insights keep: each customer message's sentiment, and an organisation's
own sentiment classifier when it trained one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization
from adesso.conversations.models import Message
from adesso.lib.codes import new_code


class Polarity(models.TextChoices):
    NEGATIVE = "negative", _("Criticism")
    POSITIVE = "positive", _("Praise")


class Process(models.Model):
    """A business process customers' criticism and praise is tied to (delivery,
    billing...), with the person who owns it (adesso/insights/processes.py). The default
    ones carry a `key` and show a translated name and description until a supervisor
    writes their own."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    key = models.CharField(max_length=32, blank=True)  # a default's: delivery, billing...
    name = models.CharField(max_length=120, blank=True)  # blank: the default's translated name
    description = models.TextField(blank=True)  # blank: the default's translated description
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "key"])]


class Topic(models.Model):
    """A recurring subject of customers' criticism or praise, found by clustering their
    first messages (adesso/insights/topics.py); kept from one run to the next (matched by
    its centroid), renamable and mergeable by a supervisor. Its quotes are read from the
    messages themselves, so an erased contact leaves no quote behind."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    polarity = models.CharField(max_length=8, choices=Polarity.choices)
    name = models.CharField(max_length=120)
    named_by_person = models.BooleanField(default=False)
    keywords = models.JSONField(default=list)
    centroid = models.BinaryField()  # float32 vector of the encoder's space
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    active = models.BooleanField(default=True)  # found again by the last run
    # The business process the topic belongs to: suggested when the topic is found (the
    # nearest process by meaning), set by a supervisor (process_by_person) from then on.
    process = models.ForeignKey(Process, null=True, blank=True, on_delete=models.SET_NULL, related_name="topics")
    process_by_person = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "polarity", "active"])]


class MessageSentiment(models.Model):
    """The sentiment of one customer message, analysed in the worker as it arrives."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, primary_key=True, related_name="sentiment")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=8)  # positive | negative | neutral
    score = models.FloatField()  # P(positive) - P(negative)
    analysed_at = models.DateTimeField(default=timezone.now)
    # The first customer message of its conversation, or a survey's reason: what topics
    # are found in; its vector (float16) is kept for the next clustering run.
    first = models.BooleanField(default=False)
    vector = models.BinaryField(null=True, blank=True)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "label"]),
            models.Index(fields=["organization", "first", "label", "-analysed_at"], name="sentiment_first"),
        ]


class SentimentModel(models.Model):
    """An organisation's own classifier, trained on its labelled texts; used only when
    it scored better than the shipped one on the same held-out part."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    weights = models.BinaryField()
    examples = models.PositiveIntegerField()
    accuracy = models.FloatField()  # its own, on the held-out part
    shipped_accuracy = models.FloatField()  # the shipped classifier's, on the same part
    in_use = models.BooleanField(default=False)
    trained_at = models.DateTimeField(default=timezone.now)


class InsightsRun(models.Model):
    """Progress of a long piece of insights work done by the worker: finding an
    organisation's topics again (daily), analysing a backlog of messages. At most one
    queued or running per organisation and kind (the constraint is the timer's
    compare-and-set); the report page shows the latest."""

    class Kind(models.TextChoices):
        TOPICS = "topics", _("Finding topics")
        ANALYSIS = "analysis", _("Analysing messages")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "kind", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind"], condition=Q(state__in=["queued", "running"]), name="insights_run_one"
            )
        ]

    @property
    def share(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None
