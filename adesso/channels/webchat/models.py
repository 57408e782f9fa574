"""What the web chat keeps besides the core's messages: the page each visitor is on and
their browser's language, shown to the agents in the conversation's sidebar."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from adesso.accounts.models import Organization
from adesso.channels.models import Channel


class VisitorPage(models.Model):
    """The page a visitor's window was last opened on (the widget says so when it starts
    and on each navigation), one row per visitor and channel, updated in place. `sender`
    is the visitor's `webchat` identity (`v_...` or `id:<identifier>`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    sender = models.CharField(max_length=150)
    url = models.CharField(max_length=2000)
    title = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=35, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "sender"], name="webchat_page_one_per_visitor")]

    def __str__(self) -> str:
        return f"{self.sender} {self.url}"
