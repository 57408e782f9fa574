"""Surveys: sent after a resolution, answered by the customer's next message.

`send_survey` runs inside the resolving action's transaction (the `resolved` signal);
`awaiting` and `do_record_answer` inside intake's, for a message on a resolved
conversation whose survey waits for a score or a reason: the answer joins the
conversation without reopening it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from adesso.accounts.cached import org_settings
from adesso.channels.base import SurveyQuestion
from adesso.channels.registry import get_kind
from adesso.conversations.events import record_event
from adesso.conversations.models import Conversation, EventKind, Message
from adesso.lib.names import safe_first_name
from adesso.surveys import texts
from adesso.surveys.models import SCALES, State, Survey, SurveySettings, is_bad

if TYPE_CHECKING:
    from adesso.accounts.models import User
    from adesso.channels.models import Channel
    from adesso.contacts.models import Contact

# How long an answer is taken as one: later, the customer's message is an ordinary one.
ANSWER_WINDOW = dt.timedelta(days=7)
_SALT = "adesso.surveys.link"


def settings_for(organization_id: int, channel_id: int) -> SurveySettings:
    """The channel's own settings, else the organisation's, else the defaults (unsaved)."""
    found = SurveySettings.objects.filter(
        Q(channel_id=channel_id) | Q(channel__isnull=True), organization_id=organization_id
    )
    rows = {row.channel_id: row for row in found}
    return rows.get(channel_id) or rows.get(None) or SurveySettings(organization_id=organization_id)


def language_of(conversation: Conversation) -> str:
    for language in (conversation.language, conversation.contact.language):
        if language in ("it", "en"):
            return language
    return "it"


def link_token(survey: Survey) -> str:
    """The signed part of a survey's public links (no secret of ours in it, only the code)."""
    return signing.Signer(salt=_SALT).sign(survey.code)


def survey_from_token(token: str) -> Survey | None:
    try:
        code = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return Survey.objects.select_related("conversation").filter(code=code).first()


def link_url(survey: Survey, score: int) -> str:
    path = reverse("surveys:answer", kwargs={"token": link_token(survey), "score": score})
    return settings.SITE_URL.rstrip("/") + path


def send_survey(conversation: Conversation, actor: User | None, sensitive: bool = False) -> Survey | None:
    """Ask the customer of a conversation just resolved how it went, on its own channel,
    in their language. None (nothing sent) when the organisation or channel turned surveys
    off, the agent marked the conversation sensitive, the contact had one within the
    settings' days, or the channel holds automatic messages back."""
    if sensitive:
        return None
    found = settings_for(conversation.organization_id, conversation.channel_id)
    if not found.enabled:
        return None
    now = timezone.now()
    since = now - dt.timedelta(days=found.interval_days)
    if Survey.objects.filter(contact_id=conversation.contact_id, sent_at__gt=since).exists():
        return None
    kind = get_kind(conversation.channel.kind)
    if not kind.may_auto_reply(conversation.channel, conversation):
        return None
    language = language_of(conversation)
    low, high = SCALES[found.kind]
    survey = Survey(
        organization_id=conversation.organization_id,
        conversation=conversation,
        contact_id=conversation.contact_id,
        channel_id=conversation.channel_id,
        agent_id=conversation.assignee_id or (actor.pk if actor is not None else None),
        kind=found.kind,
        language=language,
        sent_at=now,
        expires_at=now + ANSWER_WINDOW,
    )
    question = SurveyQuestion(
        text=texts.question(
            found.kind,
            language,
            safe_first_name(conversation.contact.name),
            org_settings(conversation.organization_id).name,
            low,
            high,
        ),
        low=low,
        high=high,
        reply_hint=texts.hint(language, low, high),
        language=language,
        links={score: link_url(survey, score) for score in range(low, high + 1)},
    )
    text = kind.survey_question(conversation.channel, conversation, question)
    from adesso.conversations.actions import do_send_auto_message

    with transaction.atomic(savepoint=False):
        survey.save(force_insert=True)
        do_send_auto_message(
            conversation,
            text,
            "survey",
            # The scale: kinds with buttons (Telegram's reply keyboard) offer one per score.
            {"survey": survey.code, "kind": found.kind, "language": language, "scale": [low, high]},
        )
        record_event(conversation, EventKind.SURVEY_SENT, None, {"survey": survey.code, "kind": found.kind})
    return survey


def awaiting(
    contact: Contact, channel: Channel, conversation: Conversation | None, text: str, now: dt.datetime
) -> Survey | None:
    """The survey a customer's message answers, if it does: their survey on this channel
    waiting for a score (and the message is one) or for the reason it asked. `conversation`:
    the one the channel threads the message into (email), if any. A message that is not
    the score awaited ends the survey (expired): the customer has moved on."""
    if not text.strip():
        return None
    surveys = Survey.objects.select_related("conversation").filter(
        contact_id=contact.pk,
        channel_id=channel.pk,
        state__in=(State.SENT, State.ANSWERED),
    )
    if conversation is not None:
        surveys = surveys.filter(conversation_id=conversation.pk)
    survey = surveys.order_by("-sent_at").first()
    if survey is None or survey.conversation.status != "resolved":
        return None
    if survey.expires_at <= now:
        Survey.objects.filter(pk=survey.pk, state=State.SENT).update(state=State.EXPIRED)
        return None
    if survey.state == State.ANSWERED:
        return survey if survey.asked_reason else None
    if texts.parse_score(text, *survey.scale) is None:
        Survey.objects.filter(pk=survey.pk, state=State.SENT).update(state=State.EXPIRED)
        return None
    return survey


def do_record_answer(survey: Survey, message: Message, now: dt.datetime) -> None:
    """The customer's message `message` (stored by intake in the survey's conversation)
    answers it: a score, with or without a reason, or the reason asked for."""
    conversation = survey.conversation
    with transaction.atomic(savepoint=False):
        if survey.state == State.ANSWERED:
            _reason(survey, conversation, message.text.strip(), message.code, now)
            return
        parsed = texts.parse_score(message.text, *survey.scale)
        assert parsed is not None  # awaiting() checked it
        _score(survey, conversation, parsed[0], message.code, now)
        if parsed[1]:
            _reason(survey, conversation, parsed[1], message.code, now)
        else:
            _ask_why(survey, conversation)


def do_answer_by_link(survey: Survey, score: int, now: dt.datetime | None = None) -> bool:
    """A score from the survey's public page (a link in the mail). A score may be changed
    until a reason is given; False when the survey no longer takes one."""
    now = now or timezone.now()
    low, high = survey.scale
    if not low <= score <= high or survey.state in (State.REASONED, State.EXPIRED):
        return False
    if survey.state == State.SENT and survey.expires_at <= now:
        Survey.objects.filter(pk=survey.pk, state=State.SENT).update(state=State.EXPIRED)
        return False
    if survey.score == score:
        return True
    with transaction.atomic():
        _score(survey, survey.conversation, score, "", now, via="link")
    return True


def do_reason_by_link(survey: Survey, reason: str, now: dt.datetime | None = None) -> bool:
    reason = reason.strip()
    if not reason or survey.state != State.ANSWERED:
        return False
    with transaction.atomic():
        _reason(survey, survey.conversation, reason[:5000], "", now or timezone.now())
    return True


def _score(
    survey: Survey, conversation: Conversation, score: int, message_code: str, now: dt.datetime, via: str = "message"
) -> None:
    survey.score, survey.state, survey.answered_at = score, State.ANSWERED, now
    survey.save(update_fields=["score", "state", "answered_at"])
    data: dict[str, object] = {"survey": survey.code, "kind": survey.kind, "score": score, "via": via}
    if message_code:
        data["message"] = message_code
    if is_bad(survey.kind, score):
        data["bad"] = True
        if survey.agent is not None:
            data["notify"] = [survey.agent.code]
    record_event(conversation, EventKind.SURVEY_ANSWERED, None, data)


def _ask_why(survey: Survey, conversation: Conversation) -> None:
    """One follow-up, never more: the next message is the reason."""
    from adesso.conversations.actions import do_send_auto_message

    survey.asked_reason = True
    survey.save(update_fields=["asked_reason"])
    do_send_auto_message(conversation, texts.WHY[survey.language], "survey_why", {"survey": survey.code})


def _reason(survey: Survey, conversation: Conversation, reason: str, message_code: str, now: dt.datetime) -> None:
    survey.reason, survey.state, survey.reasoned_at = reason, State.REASONED, now
    survey.save(update_fields=["reason", "state", "reasoned_at"])
    data: dict[str, object] = {"survey": survey.code, "reason": reason[:500]}
    if message_code:
        data["message"] = message_code
    record_event(conversation, EventKind.SURVEY_REASON, None, data)
