"""Canned replies: ready answers an agent inserts by typing `/` in the reply box."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization
from adesso.lib.codes import new_code


class Language(models.TextChoices):
    ITALIAN = "it", "Italiano"
    ENGLISH = "en", "English"


class CannedReply(models.Model):
    """A personal reply (`owner` set: only they see and change it) or a shared one
    (`owner` null: the whole organisation sees it, supervisors and admins change it).
    The body is plain text with placeholders such as {contact_first_name}, filled by
    adesso.canned.texts.fill: never rendered as a template."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    code = models.CharField(max_length=16, unique=True, default=new_code)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_replies"
    )
    shortcut = models.CharField(max_length=30)
    title = models.CharField(max_length=100)
    language = models.CharField(max_length=2, choices=Language.choices)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "shortcut", "language"],
                name="canned_shared_shortcut_unique",
                condition=Q(owner__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["owner", "shortcut", "language"],
                name="canned_personal_shortcut_unique",
                condition=Q(owner__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["organization", "shortcut"])]
        verbose_name = _("canned reply")

    def __str__(self) -> str:
        return f"/{self.shortcut} ({self.language})"

    @property
    def shared(self) -> bool:
        return self.owner_id is None
