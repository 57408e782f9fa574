"""A few weeks of the demo shop's traffic, written through the real actions.

The clock is moved (time-machine) from step to step in time order: agents come
online and go offline on their shifts, customers write on four channels, routing
assigns, acknowledgements go out, agents answer (through the reply coach),
customers write again, agents resolve, and the timers run whenever an SLA or a
promise falls due. What the reports, the planner, the coach's statistics and the
silence guard show afterwards is what these actions recorded.

Deterministic (a seeded random generator): the same shape on every machine.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import time_machine
from django.db import transaction
from django.db.models import Min
from django.test import override_settings
from django.utils import timezone

from adesso.accounts.cached import forget
from adesso.accounts.models import Organization, Presence, User
from adesso.channels.base import InboundMessage, InboundSender
from adesso.channels.models import Channel
from adesso.coach.actions import coach_draft, do_record_coaching
from adesso.coach.engine import Report
from adesso.conversations.actions import do_change_status, do_send_reply
from adesso.conversations.models import Conversation, DeliveryStatus, Message, Status
from adesso.demo import texts
from adesso.demo.weeks import copy_weeks
from adesso.intake.actions import do_receive_message
from adesso.notifications.models import Notification
from adesso.outbox.models import Delivery, DeliveryState
from adesso.routing.actions import do_set_presence
from adesso.sla.actions import do_check_sla
from adesso.surveys.actions import do_answer_by_link, do_reason_by_link
from adesso.surveys.models import State, Survey

LOCAL = zoneinfo.ZoneInfo("Europe/Rome")
# The history's deliveries are marked sent at the end; no job is queued for them.
QUIET_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

# Conversations started per weekday (Monday first): a pastry shop is busiest on
# Friday and Saturday, quiet on Sunday.
PER_DAY = [12, 10, 10, 11, 14, 16, 6]
# Arrivals by local hour (the shop's customers write mostly by day).
HOURS = {
    7: 1,
    8: 3,
    9: 6,
    10: 8,
    11: 8,
    12: 6,
    13: 4,
    14: 5,
    15: 6,
    16: 6,
    17: 6,
    18: 5,
    19: 4,
    20: 3,
    21: 3,
    22: 2,
    23: 1,
}
# (channel index, weight): Sito web, App mobile, WhatsApp (API), Email.
CHANNEL_WEIGHTS = [30, 15, 35, 20]
KINDS = ("web", "app", "whatsapp", "email")
# Of the customers asked how it went, this many answer; a score 1-5 drawn with these
# weights after a good conversation and after a slow or badly answered one.
SURVEY_ANSWERED = 0.45
SCORES_GOOD = [1, 1, 4, 24, 70]
SCORES_BAD = [22, 22, 26, 18, 12]
# Shifts in local time: agent key -> {weekday: (from hour, to hour)}.
SHIFTS: dict[str, dict[int, tuple[int, int]]] = {
    "giulia": {d: (9, 17) for d in range(5)},
    "marco": {d: (12, 20) for d in range(1, 6)},
    "sarah": {d: (9, 18) for d in range(5)},
    "admin": {5: (9, 14), 6: (10, 13)},
}


@dataclass
class Customer:
    name: str
    language: str
    email: str
    phone: str
    key: int


@dataclass
class Plan:
    """One conversation as it will happen."""

    index: int
    channel: int
    customer: Customer
    topic: texts.Topic
    coached: str = ""  # a reply the coach will flag, on a bad day
    conversation_id: int | None = None
    external: int = 0


@dataclass(order=True)
class Step:
    at: dt.datetime
    order: int
    kind: str = field(compare=False)
    plan: Plan | None = field(compare=False, default=None)
    agent: str = field(compare=False, default="")
    reason: str = field(compare=False, default="")


def _customers(rng: random.Random) -> list[Customer]:
    people = []
    for key in range(150):
        english = key % 6 == 5
        first = rng.choice(texts.FIRST_NAMES_EN if english else texts.FIRST_NAMES_IT)
        last = rng.choice(texts.LAST_NAMES_EN if english else texts.LAST_NAMES_IT)
        slug = f"{first}.{last}".lower().replace(" ", "")
        people.append(
            Customer(
                name=f"{first} {last}",
                language="en" if english else "it",
                email=f"{slug}{key}@example.com",
                phone=f"+44 7700 9{key:05d}" if english else f"+39 3{key % 50 + 20} {key * 7919 % 9000000 + 1000000}",
                key=key,
            )
        )
    return people


def on_shift(agent: str, at: dt.datetime) -> bool:
    local = at.astimezone(LOCAL)
    hours = SHIFTS[agent].get(local.weekday())
    return hours is not None and hours[0] <= local.hour < hours[1]


def _next_shift_start(at: dt.datetime) -> dt.datetime:
    """The first moment at or after `at` when somebody is at work."""
    moment = at
    for _ in range(24 * 4):
        if any(on_shift(agent, moment) for agent in SHIFTS):
            return moment
        local = moment.astimezone(LOCAL)
        moment = (local.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)).astimezone(dt.UTC)
    return at


class History:
    def __init__(self, channels: list[Channel], agents: dict[str, User], days: int = 28, seed: int = 2026) -> None:
        self.channels = channels
        self.agents = agents
        self.days = days
        self.rng = random.Random(seed)
        self.customers = _customers(self.rng)
        self.steps: list[Step] = []
        self.order = 0
        self.tick_at: dt.datetime | None = None
        self.org_id = channels[0].organization_id
        self.counts: dict[str, int] = {"conversations": 0, "replies": 0, "breaches": 0}
        self.reports: dict[tuple[str, str], Report] = {}

    # -- planning -----------------------------------------------------------------------

    def _push(self, at: dt.datetime, kind: str, plan: Plan | None = None, agent: str = "", reason: str = "") -> None:
        self.order += 1
        heapq.heappush(self.steps, Step(at, self.order, kind, plan, agent, reason))

    def _delay(self, median_minutes: float, spread: float = 0.8) -> dt.timedelta:
        minutes = self.rng.lognormvariate(0, spread) * median_minutes
        return dt.timedelta(minutes=max(1.0, min(minutes, 240.0)), seconds=self.rng.randint(0, 59))

    def plan(self, now: dt.datetime) -> None:
        today = now.astimezone(LOCAL).date()
        hours, weights = list(HOURS), list(HOURS.values())
        index = 0
        for back in range(self.days, -1, -1):
            day = today - dt.timedelta(days=back)
            for agent, shifts in SHIFTS.items():
                span = shifts.get(day.weekday())
                if span is not None:
                    start = dt.datetime.combine(day, dt.time(span[0]), LOCAL)
                    end = dt.datetime.combine(day, dt.time(span[1]), LOCAL)
                    start += dt.timedelta(minutes=self.rng.randint(-5, 5))
                    end += dt.timedelta(minutes=self.rng.randint(0, 10))
                    self._push(start, "online", agent=agent)
                    self._push(end, "offline", agent=agent)
            # December: more orders every week towards Christmas.
            count = round(PER_DAY[day.weekday()] * (0.85 + 0.3 * (self.days - back) / self.days))
            for _ in range(count):
                hour = self.rng.choices(hours, weights)[0]
                at = dt.datetime.combine(day, dt.time(hour, self.rng.randint(0, 59), self.rng.randint(0, 59)), LOCAL)
                if at > now - dt.timedelta(hours=2):
                    continue  # the last hours belong to the live demo
                self._plan_conversation(index, at.astimezone(dt.UTC), back)
                index += 1

    def _plan_conversation(self, index: int, at: dt.datetime, back: int) -> None:
        customer = self.rng.choice(self.customers[:60] if self.rng.random() < 0.5 else self.customers)
        topics = texts.EN if customer.language == "en" else texts.IT
        channel = self.rng.choices(range(len(self.channels)), CHANNEL_WEIGHTS)[0]
        plan = Plan(index, channel, customer, self.rng.choice(topics))
        self._push(at, "arrive", plan)
        roll = self.rng.random()
        if back in (1, 2, 3) and roll < 0.1:
            return  # fell through the cracks: the silence guard finds it
        if roll > 0.97:
            # Spam, or the customer sorted it out alone: resolved with a reason, no answer.
            self._push(
                _next_shift_start(at) + self._delay(20),
                "resolve",
                plan,
                reason=self.rng.choice(texts.NO_ANSWER_REASONS),
            )
            return
        if self.rng.random() < 0.07:
            plan.coached = self.rng.choice(texts.COACHED_EN if customer.language == "en" else texts.COACHED_IT)
        first = _next_shift_start(at) + self._delay(9)
        self._push(first, "reply", plan)
        last = first
        if self.rng.random() < 0.4:
            again = first + self._delay(25, 1.0)
            self._push(again, "arrive", plan)
            last = _next_shift_start(again) + self._delay(7)
            self._push(last, "reply", plan)
        if back == 0 or (back == 1 and self.rng.random() < 0.5):
            return  # still open: answered, not yet resolved
        resolved = last + self._delay(30, 1.2)
        self._push(resolved, "resolve", plan)
        if self.rng.random() < SURVEY_ANSWERED:
            self._push(resolved + self._delay(45, 1.0), "survey", plan)

    # -- running ------------------------------------------------------------------------

    def run(self, now: dt.datetime) -> dict[str, int]:
        """Play every planned step up to `now` with the clock at its time."""
        self.plan(now)
        first = self.steps[0].at
        # Acknowledgements are left out of the history: they would cost more than all the
        # rest, and nothing the reports show depends on them.
        Organization.objects.filter(pk=self.org_id).update(acknowledge=False)
        forget(self.org_id)
        try:
            with override_settings(TASKS=QUIET_TASKS), time_machine.travel(first, tick=False) as traveller:
                while self.steps:
                    step = heapq.heappop(self.steps)
                    if step.at >= now:
                        break
                    traveller.move_to(step.at)
                    getattr(self, f"_{step.kind}")(step)
                    self._schedule_tick(step.at)
        finally:
            Organization.objects.filter(pk=self.org_id).update(acknowledge=True)
            forget(self.org_id)
        self._finish(now)
        return self.counts

    def _schedule_tick(self, at: dt.datetime) -> None:
        """The SLA timer runs when a check falls due, as `runtimers` would."""
        due = Conversation.objects.filter(organization_id=self.org_id, sla_check_at__gt=at).aggregate(
            sla=Min("sla_check_at")
        )["sla"]
        if due is None:
            return
        soonest = due + dt.timedelta(seconds=1)
        if self.tick_at is None or self.tick_at <= at or soonest < self.tick_at:
            self.tick_at = soonest
            self._push(soonest, "tick")

    def _tick(self, step: Step) -> None:
        if self.tick_at == step.at:
            self.tick_at = None
        do_check_sla(step.at)

    def _online(self, step: Step) -> None:
        do_set_presence(self.agents[step.agent], Presence.ONLINE)

    def _offline(self, step: Step) -> None:
        do_set_presence(self.agents[step.agent], Presence.OFFLINE)

    @staticmethod
    def _sender(plan: Plan) -> InboundSender:
        customer, kind = plan.customer, KINDS[plan.channel]
        sender_id = {
            "web": f"web-{customer.key}",
            "app": f"app-{customer.key}",
            "whatsapp": customer.phone,
            "email": customer.email,
        }[kind]
        return InboundSender(
            sender_id,
            name=customer.name,
            email=customer.email if kind in ("web", "email") else "",
            phone=customer.phone if kind in ("app", "whatsapp") else "",
        )

    def _arrive(self, step: Step) -> None:
        plan = step.plan
        assert plan is not None
        channel = self.channels[plan.channel]
        kind = KINDS[plan.channel]
        text = plan.topic.opening if plan.external == 0 else plan.topic.follow_up
        plan.external += 1
        inbound = InboundMessage(
            external_id=f"demo-history-{plan.index}-{plan.external}",
            sender=self._sender(plan),
            text=text,
            subject=plan.topic.subject if kind == "email" else "",
            thread=self._code(plan) if plan.external > 1 else "",
            new_thread=plan.external == 1,
        )
        received = do_receive_message(channel, inbound)
        plan.conversation_id = received.conversation.pk
        if plan.external == 1:
            self.counts["conversations"] += 1

    def _code(self, plan: Plan) -> str:
        assert plan.conversation_id is not None
        return Conversation.objects.filter(pk=plan.conversation_id).values_list("code", flat=True).first() or ""

    def _conversation(self, plan: Plan) -> Conversation:
        assert plan.conversation_id is not None
        return Conversation.objects.select_related("channel", "contact", "assignee").get(pk=plan.conversation_id)

    def _replier(self, conversation: Conversation) -> User:
        """The assignee; else someone at work, who speaks the customer's language if possible."""
        if conversation.assignee is not None:
            return conversation.assignee
        at = timezone.now()
        working = [key for key in SHIFTS if on_shift(key, at)] or list(SHIFTS)
        speakers = [k for k in working if (conversation.language or "it") in self.agents[k].speaks]
        return self.agents[self.rng.choice(speakers or working)]

    def _reply(self, step: Step) -> None:
        plan = step.plan
        assert plan is not None
        conversation = self._conversation(plan)
        if conversation.waiting_since is None or conversation.status == Status.RESOLVED:
            return
        agent = self._replier(conversation)
        first = conversation.first_response_at is None
        if first and plan.coached:
            text = plan.coached
        else:
            text = plan.topic.answer if first else plan.topic.closing
        report = self._coach(agent, text, conversation)
        text = text.format(name=plan.customer.name.split()[0])
        with transaction.atomic():  # as send_checked_reply: the reply and its coaching record
            message = do_send_reply(agent, conversation, text)
            do_record_coaching(agent, message, report, confirmed=True)
        self.counts["replies"] += 1

    def _coach(self, agent: User, template: str, conversation: Conversation) -> Report:
        """The coach's report on a reply, once per wording (the customer's name aside)."""
        key = (template, agent.language)
        if key not in self.reports:
            text = template.format(name=conversation.contact.name.split()[0])
            self.reports[key] = coach_draft(agent, text, conversation=conversation)
        return self.reports[key]

    def _resolve(self, step: Step) -> None:
        plan = step.plan
        assert plan is not None
        conversation = self._conversation(plan)
        if conversation.status == Status.RESOLVED:
            return
        agent = conversation.assignee or self._replier(conversation)
        reason = step.reason if conversation.waiting_since is not None else ""
        if conversation.waiting_since is not None and not reason:
            return  # a customer wrote again since: the agent answers first
        do_change_status(agent, conversation, Status.RESOLVED, reason=reason)

    def _survey(self, step: Step) -> None:
        """The customer answers the survey sent at the resolution: a score, with a reason
        or without one (then the follow-up question asks why, and some say). By a link
        on email (the survey's page), by a message on the other channels."""
        plan = step.plan
        assert plan is not None and plan.conversation_id is not None
        survey = Survey.objects.filter(conversation_id=plan.conversation_id).order_by("-sent_at").first()
        if survey is None or survey.state not in (State.SENT, State.ANSWERED):
            return  # not asked (a survey within the month), or already answered
        english = plan.customer.language == "en"
        if survey.state == State.ANSWERED:
            reason = step.reason
            if KINDS[plan.channel] == "email":
                do_reason_by_link(survey, reason)
            else:
                self._answer(plan, reason)
            return
        conversation = self._conversation(plan)
        bad = conversation.sla_breached or bool(plan.coached)
        score = self.rng.choices(range(1, 6), SCORES_BAD if bad else SCORES_GOOD)[0]
        if score >= 4:
            reason = self.rng.choice(texts.SURVEY_GOOD_EN if english else texts.SURVEY_GOOD_IT)
        else:
            reason = self.rng.choice(texts.SURVEY_BAD_EN if english else texts.SURVEY_BAD_IT)
        with_reason = self.rng.random() < 0.4
        if KINDS[plan.channel] == "email":
            do_answer_by_link(survey, score)
            if with_reason:
                do_reason_by_link(survey, reason)
        else:
            self._answer(plan, f"{score} {reason}" if with_reason else str(score))
        if not with_reason and self.rng.random() < 0.6:
            self._push(step.at + self._delay(10), "survey", plan, reason=reason)

    def _answer(self, plan: Plan, text: str) -> None:
        plan.external += 1
        do_receive_message(
            self.channels[plan.channel],
            InboundMessage(
                external_id=f"demo-history-{plan.index}-{plan.external}",
                sender=self._sender(plan),
                text=text,
                thread=self._code(plan) if KINDS[plan.channel] == "email" else "",
            ),
        )

    def _finish(self, now: dt.datetime) -> None:
        """What happened in the past is done: deliveries sent, notifications read."""
        Delivery.objects.filter(organization_id=self.org_id, status=DeliveryState.QUEUED).update(
            status=DeliveryState.SENT, attempts=1, next_attempt_at=None
        )
        Message.objects.filter(organization_id=self.org_id, delivery_status=DeliveryStatus.PENDING).update(
            delivery_status=DeliveryStatus.SENT
        )
        Notification.objects.filter(
            user__organization_id=self.org_id, read_at__isnull=True, created_at__lt=now - dt.timedelta(hours=12)
        ).update(read_at=now)
        self.counts["breaches"] = Conversation.objects.filter(organization_id=self.org_id, sla_breached=True).count()


def play(
    channels: list[Channel], agents: dict[str, User], now: dt.datetime | None = None, weeks: int = 4
) -> dict[str, Any]:
    """The last week (and today) through the real actions, then the weeks before copied
    from it (`adesso.demo.weeks`)."""
    now = now or timezone.now()
    counts = History(channels, agents, days=7).run(now)
    today = dt.datetime.combine(now.astimezone(LOCAL).date(), dt.time(), LOCAL)
    counts["copied"] = copy_weeks(channels[0].organization_id, today - dt.timedelta(days=7), today, weeks - 1)
    return counts
