"""What the insights keep: each customer message's sentiment, and an organisation's
own sentiment classifier when it trained one."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from adesso.accounts.models import Organization
from adesso.conversations.models import Message


class MessageSentiment(models.Model):
    """The sentiment of one customer message, analysed in the worker as it arrives."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, primary_key=True, related_name="sentiment")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=8)  # positive | negative | neutral
    score = models.FloatField()  # P(positive) - P(negative)
    analysed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "label"])]


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
