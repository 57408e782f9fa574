"""Earlier weeks of the demo, copied from the week the real actions played.

Playing four weeks through every action takes over a minute on a laptop; one week
takes seconds. The weeks before it are that week's resolved conversations, each
moved back by whole weeks with all its rows (messages, events, deliveries, coaching
records, the survey and its answer), a few left out the further back it goes (December gets busier towards
Christmas). Nothing is invented that the actions did not write once.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models.base import ModelState

from adesso.coach.models import CoachFinding, CoachRecord
from adesso.conversations.models import Conversation, ConversationEvent, Message, Status
from adesso.lib.codes import new_code
from adesso.outbox.models import Delivery
from adesso.surveys.models import Survey

M = TypeVar("M", bound=models.Model)


def _moved(row: M, delta: dt.timedelta, **changes: Any) -> M:
    """A new row like `row`, its times moved by `delta`, with a new code if it has one."""
    new = copy.copy(row)
    new.pk = None
    new._state = ModelState()
    for f in row._meta.concrete_fields:
        if isinstance(f, models.DateTimeField):
            value = getattr(row, f.attname)
            if value is not None:
                setattr(new, f.attname, value + delta)
        elif f.name == "code":
            setattr(new, f.attname, new_code())
    for name, value in changes.items():
        setattr(new, name, value)
    return new


def copy_weeks(organization_id: int, since: dt.datetime, until: dt.datetime, weeks: int, seed: int = 2026) -> int:
    """Copy the resolved conversations started in [since, until) to each of the `weeks`
    weeks before. Returns how many conversations were written."""
    rng = random.Random(seed)
    source = list(
        Conversation.objects.filter(
            organization_id=organization_id,
            created_at__gte=since,
            created_at__lt=until,
            status=Status.RESOLVED,
        ).order_by("pk")
    )
    ids = [c.pk for c in source]
    messages = list(Message.objects.filter(conversation_id__in=ids).order_by("pk"))
    events = list(ConversationEvent.objects.filter(conversation_id__in=ids).order_by("pk"))
    deliveries = list(Delivery.objects.filter(message__conversation_id__in=ids).order_by("pk"))
    records = list(CoachRecord.objects.filter(message__conversation_id__in=ids).order_by("pk"))
    findings = list(CoachFinding.objects.filter(record__in=[r.pk for r in records]).order_by("pk"))
    surveys = list(Survey.objects.filter(conversation_id__in=ids).order_by("pk"))
    written = 0
    with transaction.atomic():
        for week in range(1, weeks + 1):
            delta = -dt.timedelta(days=7 * week)
            keep = [c for c in source if rng.random() < 1 - 0.1 * week]
            copies = Conversation.objects.bulk_create([_moved(c, delta) for c in keep])
            conversation_of = {old.pk: new.pk for old, new in zip(keep, copies, strict=True)}
            moved_messages = [m for m in messages if m.conversation_id in conversation_of]
            new_messages = Message.objects.bulk_create(
                [
                    _moved(
                        m,
                        delta,
                        conversation_id=conversation_of[m.conversation_id],
                        external_id=f"{m.external_id}-w{week}" if m.external_id else m.external_id,
                    )
                    for m in moved_messages
                ]
            )
            message_of = {old.pk: new for old, new in zip(moved_messages, new_messages, strict=True)}
            code_of = {old.code: message_of[old.pk].code for old in moved_messages}
            moved_surveys = [s for s in surveys if s.conversation_id in conversation_of]
            new_surveys = [_moved(s, delta, conversation_id=conversation_of[s.conversation_id]) for s in moved_surveys]
            survey_of = {old.code: new.code for old, new in zip(moved_surveys, new_surveys, strict=True)}
            Survey.objects.bulk_create(new_surveys)
            ConversationEvent.objects.bulk_create(
                [
                    _moved(
                        e,
                        delta,
                        conversation_id=conversation_of[e.conversation_id],
                        data={k: code_of.get(v, v) if k == "message" else survey_of.get(v, v) if k == "survey" else v
                              for k, v in e.data.items()},
                    )
                    for e in events
                    if e.conversation_id in conversation_of
                ]
            )
            Delivery.objects.bulk_create(
                [
                    _moved(d, delta, message_id=message_of[d.message_id].pk)
                    for d in deliveries
                    if d.message_id in message_of
                ]
            )
            moved_records = [
                (r, message_of[r.message_id])
                for r in records
                if r.message_id is not None and r.message_id in message_of
            ]
            new_records = CoachRecord.objects.bulk_create(
                [_moved(r, delta, message_id=message.pk) for r, message in moved_records]
            )
            record_of = {old.pk: new.pk for (old, _m), new in zip(moved_records, new_records, strict=True)}
            CoachFinding.objects.bulk_create(
                [_moved(f, delta, record_id=record_of[f.record_id]) for f in findings if f.record_id in record_of]
            )
            written += len(copies)
    return written
