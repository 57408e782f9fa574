"""What a snooze would break: the time promised to a waiting customer and the service
level's due time. The agent sees these before snoozing (the page asks to confirm);
the API answers them in `warnings`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from adesso.conversations.models import Conversation


@dataclass(frozen=True)
class SnoozeWarning:
    kind: str  # "promise" or "sla"
    due_at: dt.datetime
    message: str


def _moment(value: dt.datetime, now: dt.datetime) -> str:
    """ "14:30" today, "venerdì 4 dicembre, 09:00" another day: a time a person reads at once."""
    local = timezone.localtime(value)
    if local.date() == timezone.localtime(now).date():
        return date_format(local, "TIME_FORMAT")
    return date_format(local, "l j F, H:i")


def snooze_warnings(
    conversation: Conversation, until: dt.datetime, now: dt.datetime | None = None
) -> list[SnoozeWarning]:
    """The promises a snooze until `until` would not keep, soonest first; empty when none."""
    if timezone.is_naive(until):
        return []  # refused by do_snooze
    now = now or timezone.now()
    warnings = []
    promise = conversation.promise_at
    if conversation.waiting_since is not None and promise is not None and until > promise:
        warnings.append(
            SnoozeWarning(
                "promise",
                promise,
                _(
                    "The customer was told a person would answer by %(promise)s; snoozed until %(until)s, "
                    "that promise breaks: they will get an automatic message now with the new time."
                )
                % {"promise": _moment(promise, now), "until": _moment(until, now)},
            )
        )
    due = conversation.sla_due_at
    if due is not None and until > due:
        text = (
            _("The service level was due at %(due)s and is already late: snoozing makes it later still.")
            if due <= now
            else _("The service level is due at %(due)s; snoozed until %(until)s, it will be breached.")
        )
        warnings.append(SnoozeWarning("sla", due, text % {"due": _moment(due, now), "until": _moment(until, now)}))
    return sorted(warnings, key=lambda w: w.due_at)
