"""Never silence: the instant acknowledgement of every customer turn, with an honest
estimate from the live queue, and an update before that promise can break."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adesso.accounts.cached import TTL, org_settings
from adesso.autoreply.models import AutoReplyTemplate, Purpose
from adesso.autoreply.texts import ASKS_POSITION, DEFAULTS, Filling, render, validate_template
from adesso.conversations.models import Conversation, Message, Status
from adesso.lib import batch
from adesso.lib.errors import ActionError
from adesso.lib.language import detect_language
from adesso.lib.names import safe_first_name
from adesso.routing.estimate import estimate_wait, friendly_minutes

if TYPE_CHECKING:
    from adesso.accounts.models import User

PROMISE_MARGIN = 1.5
# An update promises at least this much more time: no drip of one-minute promises.
MIN_UPDATE_MINUTES = 10
# How long a claimed promise check is leased to the process that claimed it.
LEASE = dt.timedelta(seconds=60)


def check_time(now: dt.datetime, promise_at: dt.datetime) -> dt.datetime:
    """When to look again: a quarter of the way before the promise, at least a minute before."""
    margin = max(dt.timedelta(seconds=60), (promise_at - now) / 4)
    return max(now, promise_at - margin)


def _own_templates(organization_id: int) -> dict[str, str]:
    """The organisation's own wording, keyed "purpose:language"; cached like its settings."""
    key = f"adesso:autoreplies:{organization_id}"
    found = cache.get(key)
    if found is None:
        found = {
            f"{purpose}:{language}": text
            for purpose, language, text in AutoReplyTemplate.objects.filter(
                organization_id=organization_id).values_list("purpose", "language", "text")
        }
        cache.set(key, found, TTL)
    return found  # type: ignore[no-any-return]


def template_text(organization_id: int, purpose: str, language: str) -> str:
    own = batch.memo(("autoreply.templates", organization_id), lambda: _own_templates(organization_id))
    return own.get(f"{purpose}:{language}") or DEFAULTS[(purpose, language)]


def _language(conversation: Conversation, text: str) -> str:
    detected = detect_language(text, fallback="")
    return detected or conversation.language or conversation.contact.language or "it"


def _send(
    conversation: Conversation, purpose: str, asked: bool, now: dt.datetime, assignee_online: bool | None = None,
    agents_online: int | None = None, not_before: dt.datetime | None = None,
) -> Message:
    """Write the automatic message and the new promise; inside the caller's transaction.
    `not_before`: promise no earlier than this (an agent snoozed the conversation until then)."""
    from adesso.conversations.actions import do_send_auto_message

    language = conversation.language if conversation.language in ("it", "en") else "it"
    estimate = estimate_wait(conversation, now, assignee_online, agents_online, want_position=asked)
    # The estimate is a mean; what we promise is "within", so it leaves room for an
    # answer that takes longer than the average one (about 1 in 7 at the usual spread).
    # With nobody online the estimate is already the SLA's own limit.
    margin = 1.0 if estimate.basis == "sla" else PROMISE_MARGIN
    minutes = friendly_minutes(round(estimate.seconds * margin))
    if purpose == Purpose.UPDATE:
        minutes = max(minutes, MIN_UPDATE_MINUTES)
    if not_before is not None:
        minutes = max(minutes, friendly_minutes(int((not_before - now).total_seconds())))
    promise_at = now + dt.timedelta(minutes=minutes)
    org_name = org_settings(conversation.organization_id).name
    agent = ""
    if asked and estimate.position == 0 and conversation.assignee_id:
        agent = conversation.assignee.display_name if conversation.assignee else ""
    filling = Filling(
        name=safe_first_name(conversation.contact.name), minutes=minutes, at=promise_at,
        position=estimate.position, agent=agent, organization=org_name or "", asked_position=asked,
    )
    text = render(template_text(conversation.organization_id, purpose, language), filling, language, now)
    message = do_send_auto_message(conversation, text, purpose, {
        "estimate_seconds": estimate.seconds, "promise_at": promise_at.isoformat(), "language": language,
        "position": estimate.position, "basis": estimate.basis, "handle_seconds": estimate.handle_seconds,
        "model_seconds": estimate.model_seconds,
    })
    conversation.promise_at = promise_at
    conversation.promise_check_at = check_time(now, promise_at)
    # In a batch of the inbound pipeline, with the batch's others (one executemany).
    adapt = connection.ops.adapt_datetimefield_value
    if conversation.pk is None:
        pass  # a conversation the batch inserts when it flushes: with these values
    elif not batch.update_later(
        _PROMISE_SQL, [adapt(promise_at), adapt(conversation.promise_check_at), conversation.pk]
    ):
        Conversation.objects.filter(pk=conversation.pk).update(
            promise_at=conversation.promise_at, promise_check_at=conversation.promise_check_at
        )
    return message


_PROMISE_SQL = "UPDATE conversations_conversation SET promise_at = %s, promise_check_at = %s WHERE id = %s"


def acknowledge(
    conversation: Conversation, text: str, now: dt.datetime, automated: bool = False,
    assignee_online: bool | None = None, agents_online: int | None = None,
) -> Message | None:
    """Called by intake, in its transaction, when a customer's message starts a turn:
    one acknowledgement per turn, in the customer's language, saying when a person
    will answer. None when the organisation turned it off, the sender is a machine,
    or the channel holds automatic mail back (e.g. a sender's rate limit)."""
    if automated or conversation.status != Status.OPEN:
        return None
    if not org_settings(conversation.organization_id).acknowledge:
        return None
    if not _channel_allows(conversation):
        return None
    language = _language(conversation, text)
    if language != conversation.language:
        conversation.language = language
        if conversation.pk is not None:  # else inserted with it when the batch flushes
            Conversation.objects.filter(pk=conversation.pk).update(language=language)
    return _send(conversation, Purpose.ACK, bool(ASKS_POSITION.search(text)), now, assignee_online, agents_online)


def update_promise_for_snooze(conversation: Conversation, until: dt.datetime, now: dt.datetime) -> Message | None:
    """Called when do_snooze sends `snoozed`, in its transaction. A snooze that outlasts what the waiting
    customer was promised would break the promise in silence: tell them now, honestly,
    when a person will answer (the snooze's end, plus the usual time to answer)."""
    promise_at = conversation.promise_at
    if conversation.waiting_since is None or promise_at is None or until <= promise_at:
        return None
    if not _channel_allows(conversation):
        return None
    return _send(conversation, Purpose.UPDATE, False, now, not_before=until + dt.timedelta(minutes=MIN_UPDATE_MINUTES))


def do_check_promises(now: dt.datetime | None = None, limit: int = 500) -> int:
    """The timer's step: look again at promises due for a check. A customer still
    waiting whose answer will not come in time gets an update before the promise breaks."""
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(promise_check_at__lte=now)
        .order_by("promise_check_at").values_list("pk", "promise_check_at")[:limit]
    )
    handled = 0
    for pk, check_at in due:
        # Compare-and-set: the process that moves the check time owns this row now.
        if not Conversation.objects.filter(pk=pk, promise_check_at=check_at).update(promise_check_at=now + LEASE):
            continue
        handled += 1
        with transaction.atomic():
            conversation = Conversation.objects.select_related("contact", "channel", "assignee").get(pk=pk)
            _check(conversation, now)
    return handled


def _check(conversation: Conversation, now: dt.datetime) -> None:
    if conversation.status == Status.SNOOZED and conversation.waiting_since is not None and (
        conversation.promise_at is not None and conversation.snoozed_until is not None
    ):
        # The promise still holds while snoozed: look again once the conversation wakes.
        Conversation.objects.filter(pk=conversation.pk).update(
            promise_check_at=max(conversation.snoozed_until, now + dt.timedelta(seconds=1)))
        return
    waiting = conversation.status == Status.OPEN and conversation.waiting_since is not None
    if not waiting or conversation.promise_at is None:
        Conversation.objects.filter(pk=conversation.pk).update(promise_at=None, promise_check_at=None)
        return
    promise_at = conversation.promise_at
    last_call = promise_at - dt.timedelta(seconds=60)
    eta = now + dt.timedelta(seconds=estimate_wait(conversation, now).seconds)
    if now < last_call and eta <= promise_at:
        # Still on time by the live queue: look once more just before the promise.
        Conversation.objects.filter(pk=conversation.pk).update(promise_check_at=last_call)
        return
    if not _channel_allows(conversation):
        Conversation.objects.filter(pk=conversation.pk).update(promise_check_at=None)
        return
    _send(conversation, Purpose.UPDATE, False, now)


def _channel_allows(conversation: Conversation) -> bool:
    """The channel's kind may hold automatic messages back (e.g. a sender's rate limit)."""
    from adesso.channels.registry import get_kind

    return get_kind(conversation.channel.kind).may_auto_reply(conversation.channel, conversation)


def do_save_template(actor: User, purpose: str, language: str, text: str) -> AutoReplyTemplate | None:
    """Admins word the automatic messages their way; an empty text restores the default
    (and returns None)."""
    if not actor.is_admin:
        raise ActionError(_("Only admins can change the automatic messages."), "forbidden")
    if purpose not in Purpose.values:
        raise ActionError(_("Unknown purpose: use ack or update."), "invalid_purpose")
    if language not in ("it", "en"):
        raise ActionError(_("Unknown language: use it or en."), "invalid_language")
    if not text.strip():
        AutoReplyTemplate.objects.filter(
            organization_id=actor.organization_id, purpose=purpose, language=language).delete()
        cache.delete(f"adesso:autoreplies:{actor.organization_id}")
        return None
    text = validate_template(text)
    cache.delete(f"adesso:autoreplies:{actor.organization_id}")
    row, _created = AutoReplyTemplate.objects.update_or_create(
        organization_id=actor.organization_id, purpose=purpose, language=language,
        defaults={"text": text, "updated_at": timezone.now(), "updated_by": actor},
    )
    return row

