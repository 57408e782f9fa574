"""Retention: what an organisation keeps, and for how long (docs/privacy.md).

- Resolved conversations older than `resolved_conversation_months` (by `resolved_at`)
  lose their content exactly as erasure empties them (texts, files, raw mails and
  events); the rows stay, so reports still count them.
- Raw inbound events processed, ignored or quarantined more than `inbound_event_days`
  ago are deleted (those still waiting or retrying are left to the pipeline).
- Audit entries older than `audit_days` are deleted.

`plan` says what would go (the `--dry-run`), `apply` does it in batches, each in its
own transaction. The timer tick calls `do_run_due_retention`: each organisation with a
policy is claimed by compare-and-set on `retention_due_at` and looked at once a day.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from adesso.audit import events as audit
from adesso.audit.models import AuditEntry
from adesso.channels.email.models import Mail
from adesso.channels.models import EventState, InboundEvent
from adesso.conversations.models import Attachment, Conversation, Message, Status
from adesso.privacy.erase import Terms, delete_files, empty_conversations
from adesso.privacy.models import PrivacySettings

BATCH = 200
# The timer gives one organisation at most this many conversations per tick, so a first
# run on years of history does not hold the timer; the rest follow on the next ticks.
TICK_LIMIT = 1000
EVERY = dt.timedelta(days=1)


def months_before(when: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (31 March - 1 month: 28/29 Feb)."""
    month_index = when.year * 12 + when.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def conversations_due(settings: PrivacySettings, now: dt.datetime) -> QuerySet[Conversation]:
    """Resolved conversations past the period that still hold content."""
    months = settings.resolved_conversation_months
    if months is None:
        return Conversation.objects.none()
    has_text = Message.objects.filter(conversation=OuterRef("pk")).exclude(text="", html="")
    has_file = Attachment.objects.filter(message__conversation=OuterRef("pk"))
    has_mail = Mail.objects.filter(message__conversation=OuterRef("pk"))
    return (
        Conversation.objects.filter(
            organization_id=settings.organization_id,
            status=Status.RESOLVED,
            resolved_at__lt=months_before(now, months),
        )
        .filter(
            Q(Exists(has_text))
            | Q(Exists(has_file))
            | Q(Exists(has_mail))
            | ~Q(subject="")
            | ~Q(last_message_preview="")
        )
        .order_by("resolved_at", "pk")
    )


def inbound_due(settings: PrivacySettings, now: dt.datetime) -> QuerySet[InboundEvent]:
    if settings.inbound_event_days is None:
        return InboundEvent.objects.none()
    return InboundEvent.objects.filter(
        organization_id=settings.organization_id,
        state__in=[EventState.PROCESSED, EventState.IGNORED, EventState.QUARANTINED],
        received_at__lt=now - dt.timedelta(days=settings.inbound_event_days),
    )


def audit_due(settings: PrivacySettings, now: dt.datetime) -> QuerySet[AuditEntry]:
    if settings.audit_days is None:
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(
        organization_id=settings.organization_id, created_at__lt=now - dt.timedelta(days=settings.audit_days)
    )


@dataclass
class Plan:
    organization: str
    conversations: int
    messages: int
    attachments: int
    inbound_events: int
    audit_entries: int
    oldest_conversation: dt.datetime | None = None
    codes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.conversations or self.inbound_events or self.audit_entries)


def plan(settings: PrivacySettings, now: dt.datetime | None = None, sample: int = 20) -> Plan:
    """What a run now would remove, counted, with the first conversations' codes."""
    now = now or timezone.now()
    conversations = conversations_due(settings, now)
    ids = conversations.values("pk")
    first = list(conversations.values_list("code", "resolved_at")[:sample])
    return Plan(
        organization=settings.organization.name,
        conversations=conversations.count(),
        messages=Message.objects.filter(conversation_id__in=ids).exclude(text="", html="").count(),
        attachments=Attachment.objects.filter(message__conversation_id__in=ids).count(),
        inbound_events=inbound_due(settings, now).count(),
        audit_entries=audit_due(settings, now).count(),
        oldest_conversation=first[0][1] if first else None,
        codes=[code for code, _ in first],
    )


def apply(
    settings: PrivacySettings,
    now: dt.datetime | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Remove what the policy says has expired; returns the counts. `progress` is told
    how many conversations each batch emptied (the command's progress bar)."""
    now = now or timezone.now()
    done = {"conversations": 0, "messages": 0, "attachments": 0, "inbound_events": 0, "audit_entries": 0}
    no_terms = Terms([])
    while limit is None or done["conversations"] < limit:
        size = BATCH if limit is None else min(BATCH, limit - done["conversations"])
        ids = list(conversations_due(settings, now).values_list("pk", flat=True)[:size])
        if not ids:
            break
        files: list[str] = []
        with transaction.atomic():
            counts = empty_conversations(ids, no_terms, files)
            transaction.on_commit(lambda files=files: delete_files(files))  # type: ignore[misc]
        for key in ("conversations", "messages", "attachments"):
            done[key] += counts[key]
        if progress:
            progress(len(ids))
    done["inbound_events"] = inbound_due(settings, now).delete()[0]
    done["audit_entries"] = audit_due(settings, now).delete()[0]
    if any(done.values()):
        audit.retention_run(organization=settings.organization, counts=done)
    return done


def do_run_due_retention(now: dt.datetime | None = None) -> int:
    """The timer's step: apply each organisation's policy when due (once a day). Returns
    how many organisations were handled."""
    now = now or timezone.now()
    handled = 0
    due = PrivacySettings.objects.filter(retention_due_at__lte=now).select_related("organization")
    for settings in due.order_by("retention_due_at")[:10]:
        # Compare-and-set: of several timer processes, one takes the organisation.
        claimed = PrivacySettings.objects.filter(pk=settings.pk, retention_due_at=settings.retention_due_at).update(
            retention_due_at=now + EVERY
        )
        if not claimed:
            continue
        done = apply(settings, now, limit=TICK_LIMIT)
        if done["conversations"] >= TICK_LIMIT:
            # More to do: come back on the next tick rather than in a day.
            PrivacySettings.objects.filter(pk=settings.pk).update(retention_due_at=now)
        handled += 1
    return handled
