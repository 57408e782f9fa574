"""Service-level policies and the calendars they run on."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from adesso.accounts.models import Organization, Team
from adesso.lib.businesshours import Calendar
from adesso.lib.codes import new_code
from adesso.lib.holidays import italian_holidays


class BusinessCalendar(models.Model):
    """Opening hours for policies that run on business time instead of 24/7."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="calendars")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="Europe/Rome")
    # {"0": [["09:00", "18:00"]], ..., "6": []}: weekday (0 = Monday) -> local intervals
    week = models.JSONField(default=dict)
    italian_holidays = models.BooleanField(default=True)
    closed_dates = models.JSONField(default=list, blank=True)  # ["2026-08-14", ...]

    def __str__(self) -> str:
        return self.name

    def as_calendar(self) -> Calendar:
        week = {
            int(day): tuple(
                (dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in intervals
            )
            for day, intervals in self.week.items()
        }
        return Calendar(
            timezone=self.timezone,
            week=week,
            holidays=italian_holidays if self.italian_holidays else None,
            extra_closed=frozenset(dt.date.fromisoformat(d) for d in self.closed_dates),
        )


class SlaPolicy(models.Model):
    """Targets for answering and resolving, for the conversations its rules select.

    Rules are lists; an empty list matches everything. Policies are tried in
    `position` order and the first match applies.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sla_policies")
    code = models.CharField(max_length=16, unique=True, default=new_code)
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    channel_kinds = models.JSONField(default=list, blank=True)
    priorities = models.JSONField(default=list, blank=True)
    contact_tiers = models.JSONField(default=list, blank=True)
    teams = models.ManyToManyField(Team, blank=True)
    first_response_minutes = models.PositiveIntegerField(default=60)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True, default=60)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT,
        help_text=_("Empty: the clock runs 24/7."),
    )
    escalate_raise_priority = models.BooleanField(default=True)
    escalate_notify_supervisors = models.BooleanField(default=True)
    escalate_to_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name
