"""Sending outgoing messages through the outbox.

A reply becomes a Delivery row in the reply's own transaction, and a worker job is
asked for after commit. The worker claims the row with compare-and-set, calls the
channel kind's `send` outside any transaction and records the outcome: sent, a
retry with backoff, failed (with a conversation event), or unknown. The timer
(`adesso runtimers`) hands due rows to the worker again, so a retry is never
forgotten, not even when the task queue loses a job.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from adesso.channels.base import (
    PermanentChannelError,
    PermanentDeliveryError,
    RecipientUnreachable,
    TemporaryDeliveryError,
    UnknownDeliveryResult,
)
from adesso.channels.models import Channel
from adesso.channels.registry import get_kind
from adesso.conversations.events import notify_after_commit, record_event
from adesso.conversations.models import DeliveryStatus, Direction, EventKind, Message
from adesso.lib import batch, rowsql
from adesso.outbox.backoff import retry_delay
from adesso.outbox.models import CLAIMABLE, Delivery, DeliveryState

log = logging.getLogger(__name__)

# Longer than any kind's send may take: a row still `sending` after it had a worker
# that died mid-send, so its result is unknown.
SEND_LEASE = dt.timedelta(minutes=5)
# A job asked for and not started within this time is presumed lost by the queue.
REDISPATCH_AFTER = dt.timedelta(minutes=5)
MAX_ERROR_CHARS = 1000


def do_enqueue_delivery(message: Message) -> Delivery:
    """Queue an outgoing message for sending on its channel.

    Call it inside the transaction that stores the message: the row commits with
    it, and the worker job is asked for only after commit.
    """
    if message.direction != Direction.OUTGOING or message.internal:
        raise ValueError("Only outgoing, non-internal messages are delivered")
    now = timezone.now()
    delivery = rowsql.new(
        Delivery,
        organization_id=message.organization_id,
        message=message,
        channel_id=message.channel_id,
        next_attempt_at=now,
        dispatched_at=now,
        created_at=now,
        updated_at=now,
    )
    # In a batch of the inbound pipeline (acknowledgements): inserted with the batch's
    # other rows and sent by one task for the batch (adesso.lib.batch).
    if batch.insert_later(delivery):
        batch.collect("deliveries", delivery, _dispatch_many)
        return delivery
    delivery.save(force_insert=True)
    _dispatch_after_commit(delivery.pk)
    return delivery


def _dispatch_after_commit(delivery_id: int) -> None:
    from adesso.outbox.tasks import deliver

    # robust: a task queue that is down must not fail the agent's reply; the timer
    # dispatches the row again after REDISPATCH_AFTER.
    transaction.on_commit(lambda: deliver.enqueue(delivery_id), robust=True)


def _dispatch_many(deliveries: list[Delivery]) -> None:
    """After a batch committed: one task for its deliveries (those of a message that
    rolled back were never inserted and have no primary key)."""
    from adesso.outbox.tasks import deliver_many

    delivery_ids = [d.pk for d in deliveries if d.pk is not None]
    if not delivery_ids:
        return
    try:
        deliver_many.enqueue(delivery_ids)
    except Exception:  # as robust as one dispatch: the timer dispatches the rows again
        log.exception("Could not ask for the delivery of %s messages", len(delivery_ids))


def do_deliver(delivery_id: int) -> str:
    """Send one delivery, at most once per dispatch, and record the outcome.

    Safe for duplicate and stale jobs: only the job that claims the row
    (dispatched and queued or unknown -> sending) sends. Returns what happened.
    """
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status__in=CLAIMABLE, dispatched_at__isnull=False).update(
        status=DeliveryState.SENDING,
        attempts=F("attempts") + 1,
        dispatched_at=None,
        next_attempt_at=now + SEND_LEASE,
        updated_at=now,
    )
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("channel", "message__conversation").get(pk=delivery_id)
    channel = delivery.channel
    if not channel.is_enabled:
        reason = channel.disabled_reason or "no reason given"
        return _fail(delivery, f"The channel is disabled ({reason})")
    try:
        kind = get_kind(channel.kind)
    except KeyError:
        return _fail(delivery, f"Unknown channel kind {channel.kind!r}")
    try:
        provider_id = kind.send(channel, delivery.message)
    except PermanentChannelError as exc:
        return _fail(delivery, str(exc), disable_channel=True)
    except RecipientUnreachable as exc:
        from adesso.contacts.actions import do_mark_unreachable

        do_mark_unreachable(channel.organization_id, exc.identity_kind, exc.identity_value, str(exc))
        return _fail(delivery, str(exc))
    except PermanentDeliveryError as exc:
        return _fail(delivery, str(exc))
    except TemporaryDeliveryError as exc:
        return _retry_or_fail(delivery, str(exc), exc.retry_after)
    except UnknownDeliveryResult as exc:
        return _unknown(delivery, str(exc))
    except Exception as exc:
        # A bug in the adapter, perhaps after the request left: treat it as unknown,
        # never as "safe to repeat".
        log.exception("Delivery %s: unexpected error in %s send", delivery_id, channel.kind)
        return _unknown(delivery, f"Unexpected error while sending ({type(exc).__name__})")
    _finish(delivery, DeliveryState.SENT, DeliveryStatus.SENT, provider_id=provider_id or "")
    return DeliveryState.SENT


def do_retry_due_deliveries(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Hand due deliveries to the worker; returns how many were dispatched.

    Due are queued rows whose retry time has come or whose job was asked for more
    than REDISPATCH_AFTER ago without starting, and unknown rows scheduled again
    (idempotent kinds only). A `sending` row past its lease lost its worker
    mid-send: it becomes unknown. Each row is claimed with compare-and-set, so
    several timer processes never dispatch one twice.
    """
    now = now or timezone.now()
    waiting = Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=now - REDISPATCH_AFTER)
    due = list(
        Delivery.objects.filter(next_attempt_at__lte=now)
        .filter(Q(status=DeliveryState.SENDING) | (Q(status__in=CLAIMABLE) & waiting))
        .order_by("next_attempt_at")
        .values_list("pk", "status", "attempts", "next_attempt_at", "dispatched_at")[:limit]
    )
    dispatched = 0
    for pk, status, attempts, next_attempt_at, dispatched_at in due:
        if status == DeliveryState.SENDING:
            delivery = Delivery.objects.select_related("channel", "message__conversation").get(pk=pk)
            if delivery.attempts == attempts and delivery.next_attempt_at == next_attempt_at:
                _unknown(delivery, "The worker stopped while sending; the result is unknown")
            continue
        claimed = Delivery.objects.filter(
            pk=pk, status=status, next_attempt_at=next_attempt_at, dispatched_at=dispatched_at
        ).update(dispatched_at=now)
        if claimed:
            _dispatch_after_commit(pk)
            dispatched += 1
    return dispatched


def _retry_or_fail(delivery: Delivery, error: str, retry_after: float | None = None) -> str:
    delay = retry_delay(delivery.attempts, retry_after)
    if delay is None:
        return _fail(delivery, f"{error} (gave up after {delivery.attempts} attempts)")
    _finish(delivery, DeliveryState.QUEUED, DeliveryStatus.PENDING, error=error, next_attempt_at=timezone.now() + delay)
    return "retry"


def _unknown(delivery: Delivery, error: str) -> str:
    """Visible as unknown; scheduled again only when repeating the send is harmless."""
    try:
        idempotent = get_kind(delivery.channel.kind).idempotent_send
    except KeyError:
        idempotent = False
    delay = retry_delay(delivery.attempts) if idempotent else None
    _finish(
        delivery,
        DeliveryState.UNKNOWN,
        DeliveryStatus.UNKNOWN,
        error=error,
        next_attempt_at=timezone.now() + delay if delay is not None else None,
    )
    return DeliveryState.UNKNOWN


def _fail(delivery: Delivery, error: str, disable_channel: bool = False) -> str:
    _finish(delivery, DeliveryState.FAILED, DeliveryStatus.FAILED, error=error, disable_channel=disable_channel)
    return DeliveryState.FAILED


def _finish(
    delivery: Delivery,
    status: str,
    message_status: str,
    *,
    error: str = "",
    next_attempt_at: dt.datetime | None = None,
    provider_id: str = "",
    disable_channel: bool = False,
) -> bool:
    """Record the outcome of the attempt this worker claimed.

    Compare-and-set on (sending, attempts): if the lease ran out meanwhile, the
    timer's verdict (unknown) stands, except that a late success is still news.
    """
    now = timezone.now()
    error = error[:MAX_ERROR_CHARS]
    if error:
        log.warning("Delivery %s, attempt %s, now %s: %s", delivery.pk, delivery.attempts, status, error)
    current = [DeliveryState.SENDING]
    if status == DeliveryState.SENT:
        current.append(DeliveryState.UNKNOWN)
    with transaction.atomic():
        done = Delivery.objects.filter(pk=delivery.pk, status__in=current, attempts=delivery.attempts).update(
            status=status,
            next_attempt_at=next_attempt_at,
            last_error=error,
            provider_message_id=provider_id,
            updated_at=now,
            sent_at=now if status == DeliveryState.SENT else None,
        )
        if not done:
            return False
        Message.objects.filter(pk=delivery.message_id).update(delivery_status=message_status)
        conversation = delivery.message.conversation
        if disable_channel:
            Channel.objects.filter(pk=delivery.channel_id).update(
                is_enabled=False, disabled_reason=f"Delivery failed permanently: {error}"
            )
        if status == DeliveryState.FAILED:
            data: dict[str, object] = {
                "message": delivery.message.code,
                "error": error,
                "attempts": delivery.attempts,
            }
            if disable_channel:
                data["channel_disabled"] = delivery.channel.code
            record_event(conversation, EventKind.DELIVERY_FAILED, data=data)
        else:
            # Live pages show the message's new delivery status.
            notify_after_commit(conversation, f"delivery_{status}")
    return True
