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
import time

from django.db import connection, transaction
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
    from adesso.outbox.tasks import deliver, on_outbox_queue

    # robust: a task queue that is down must not fail the agent's reply; the timer
    # dispatches the row again after REDISPATCH_AFTER.
    transaction.on_commit(lambda: on_outbox_queue(deliver).enqueue(delivery_id), robust=True)


def _dispatch_many(deliveries: list[Delivery]) -> None:
    """After a batch committed: one task for its deliveries (those of a message that
    rolled back were never inserted and have no primary key)."""
    from adesso.outbox.tasks import deliver_many, on_outbox_queue

    delivery_ids = [d.pk for d in deliveries if d.pk is not None]
    if not delivery_ids:
        return
    try:
        on_outbox_queue(deliver_many).enqueue(delivery_ids)
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
    state, provider_id = _attempt(delivery)
    if state == DeliveryState.SENT:
        _finish(delivery, DeliveryState.SENT, DeliveryStatus.SENT, provider_id=provider_id)
    return state


def do_deliver_many(delivery_ids: list[int]) -> int:
    """Send the deliveries a batch queued (the inbound pipeline's acknowledgements), at
    most once each, as do_deliver does one; returns how many were sent.

    By chunks: one statement claims a chunk's rows (those still dispatched and queued,
    so a duplicate or stale job sends nothing), one reads them, and the successful
    sends' outcomes are written together in one transaction after the chunk (a failure,
    a retry or an unknown result is written at once, as do_deliver writes it). Rows a
    chunk could not reach before half the send lease ran out go back to the queue.
    """
    sent = 0
    for start in range(0, len(delivery_ids), CHUNK):
        sent += _deliver_chunk(delivery_ids[start : start + CHUNK])
    return sent


# Deliveries claimed together: at most this many wait for their outcome to be written
# (a worker that dies mid-chunk leaves them `sending`, then unknown).
CHUNK = 25


def _deliver_chunk(delivery_ids: list[int]) -> int:
    now = timezone.now()
    lease_end = now + SEND_LEASE
    claimed = set(_claim_many(delivery_ids, now, lease_end))
    if not claimed:
        return 0
    started = time.monotonic()
    rows = {d.pk: d for d in Delivery.objects.select_related("channel", "message__conversation").filter(pk__in=claimed)}
    ordered = [rows[pk] for pk in delivery_ids if pk in rows]
    _prepare(ordered)
    done: list[tuple[Delivery, str]] = []
    for number, delivery in enumerate(ordered):
        if time.monotonic() - started > SEND_LEASE.total_seconds() / 2:
            _release(ordered[number:], lease_end)
            break
        state, provider_id = _attempt(delivery)
        if state == DeliveryState.SENT:
            done.append((delivery, provider_id))
    _finish_sent(done)
    return len(done)


def _prepare(deliveries: list[Delivery]) -> None:
    """A chunk's rows share their channel's object, and a kind that can look up what its
    sends need for many messages at once (`prepare_sends`) is asked to, per channel.
    Never fatal: a send then looks up what it needs itself."""
    by_channel: dict[int, list[Delivery]] = {}
    for delivery in deliveries:
        group = by_channel.setdefault(delivery.channel_id, [])
        if group:
            delivery.channel = group[0].channel
        group.append(delivery)
    for group in by_channel.values():
        channel = group[0].channel
        try:
            prepare = getattr(get_kind(channel.kind), "prepare_sends", None)
            if prepare is not None and channel.is_enabled:
                prepare(channel, [d.message for d in group])
        except Exception:
            log.exception("Preparing %s sends on channel %s failed", len(group), channel.pk)


def _claim_many(delivery_ids: list[int], now: dt.datetime, lease_end: dt.datetime) -> list[int]:
    """Claim (dispatched, queued or unknown -> sending) in one statement; the ids claimed."""
    ops = connection.ops
    marks = ", ".join(["%s"] * len(delivery_ids))
    sql = (
        f"UPDATE {ops.quote_name(Delivery._meta.db_table)} SET status = %s, attempts = attempts + 1,"  # noqa: S608 (placeholders only)
        " dispatched_at = NULL, next_attempt_at = %s, updated_at = %s"
        f" WHERE id IN ({marks}) AND status IN (%s, %s) AND dispatched_at IS NOT NULL RETURNING id"
    )
    params = [
        DeliveryState.SENDING.value,
        ops.adapt_datetimefield_value(lease_end),
        ops.adapt_datetimefield_value(now),
        *delivery_ids,
        *(state.value for state in CLAIMABLE),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _release(deliveries: list[Delivery], lease_end: dt.datetime) -> None:
    """Claimed but not sent in time: back to the queue, due now (the timer dispatches them)."""
    Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=DeliveryState.SENDING, next_attempt_at=lease_end
    ).update(
        status=DeliveryState.QUEUED,
        attempts=F("attempts") - 1,
        dispatched_at=None,
        next_attempt_at=timezone.now(),
    )


class _Raced(Exception):
    """A row of a chunk was no longer this worker's to record."""


_FINISH_SENT_PG = (
    "UPDATE outbox_delivery AS d SET status = %s, next_attempt_at = NULL, last_error = '',"
    " provider_message_id = v.provider_message_id, updated_at = %s, sent_at = %s"
    " FROM UNNEST((%s)::bigint[], (%s)::varchar[], (%s)::integer[]) AS v(id, provider_message_id, attempts)"
    " WHERE d.id = v.id AND d.status IN (%s, %s) AND d.attempts = v.attempts"
)


def _finish_sent(done: list[tuple[Delivery, str]]) -> None:
    """Record a chunk's successful sends in one transaction: each row compare-and-set as
    _finish does (sending or unknown, at the attempt claimed); if any row was taken
    meanwhile (the lease ran out), the chunk is recorded row by row instead."""
    if not done:
        return
    now = timezone.now()
    ops = connection.ops
    at = ops.adapt_datetimefield_value(now)
    sql = (
        f"UPDATE {ops.quote_name(Delivery._meta.db_table)} SET status = %s, next_attempt_at = NULL,"  # noqa: S608 (placeholders only)
        " last_error = '', provider_message_id = %s, updated_at = %s, sent_at = %s"
        " WHERE id = %s AND status IN (%s, %s) AND attempts = %s"
    )
    sent, sending, unknown = (DeliveryState.SENT.value, DeliveryState.SENDING.value, DeliveryState.UNKNOWN.value)
    params = [(sent, provider_id[:255], at, at, d.pk, sending, unknown, d.attempts) for d, provider_id in done]
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # The same, one statement for the chunk (its rows' values as arrays).
                    ids, providers, attempts = zip(*((d.pk, p[:255], d.attempts) for d, p in done), strict=True)
                    cursor.execute(
                        _FINISH_SENT_PG, [sent, at, at, list(ids), list(providers), list(attempts), sending, unknown]
                    )
                else:
                    cursor.executemany(sql, params)
                if cursor.rowcount != len(params):
                    raise _Raced
            Message.objects.filter(pk__in=[d.message_id for d, _ in done]).update(delivery_status=DeliveryStatus.SENT)
            for delivery, _provider_id in done:
                # Live pages show the message's new delivery status.
                notify_after_commit(delivery.message.conversation, f"delivery_{DeliveryState.SENT}")
    except _Raced:
        for delivery, provider_id in done:
            _finish(delivery, DeliveryState.SENT, DeliveryStatus.SENT, provider_id=provider_id)


def _attempt(delivery: Delivery) -> tuple[str, str]:
    """Send a claimed delivery. A success is returned ("sent", the provider's id) for the
    caller to record; any other outcome is recorded here and returned as its state."""
    channel = delivery.channel
    if not channel.is_enabled:
        reason = channel.disabled_reason or "no reason given"
        return _fail(delivery, f"The channel is disabled ({reason})"), ""
    try:
        kind = get_kind(channel.kind)
    except KeyError:
        return _fail(delivery, f"Unknown channel kind {channel.kind!r}"), ""
    try:
        provider_id = kind.send(channel, delivery.message)
    except PermanentChannelError as exc:
        return _fail(delivery, str(exc), disable_channel=True), ""
    except RecipientUnreachable as exc:
        from adesso.contacts.actions import do_mark_unreachable

        do_mark_unreachable(channel.organization_id, exc.identity_kind, exc.identity_value, str(exc))
        return _fail(delivery, str(exc)), ""
    except PermanentDeliveryError as exc:
        return _fail(delivery, str(exc)), ""
    except TemporaryDeliveryError as exc:
        return _retry_or_fail(delivery, str(exc), exc.retry_after), ""
    except UnknownDeliveryResult as exc:
        return _unknown(delivery, str(exc)), ""
    except Exception as exc:
        # A bug in the adapter, perhaps after the request left: treat it as unknown,
        # never as "safe to repeat".
        log.exception("Delivery %s: unexpected error in %s send", delivery.pk, channel.kind)
        return _unknown(delivery, f"Unexpected error while sending ({type(exc).__name__})"), ""
    return DeliveryState.SENT, provider_id or ""


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
            reason = f"Delivery failed permanently: {error}"
            Channel.objects.filter(pk=delivery.channel_id).update(is_enabled=False, disabled_reason=reason)
            # The rest of a chunk shares this object: they fail without calling the provider.
            delivery.channel.is_enabled, delivery.channel.disabled_reason = False, reason
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
