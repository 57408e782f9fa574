"""The inbound pipeline: accept at the speed of one INSERT, process in workers.

1. **Accept** (the web request, or `pollchannels`): the kind verifies the raw
   request and identifies the event (the provider's id, its sender, its order);
   one INSERT stores it; a repeat of the id is the same event. The answer is 2xx
   at once and a processing task is enqueued on commit.
2. **Claim**: a worker takes due events in a batch (`SELECT ... FOR UPDATE SKIP
   LOCKED` on PostgreSQL; on SQLite the IMMEDIATE transaction holds the write lock),
   marking them with its lease (compare-and-set on the due and lease columns).
3. **Process**, each sender's events in the provider's order: the kind parses the
   raw event into normalised events, which become messages (through
   `do_receive_message`: the conversation, routing, acknowledgement), edits,
   status updates or reactions; the outcome is recorded in the same transaction,
   under the lease, so a worker that dies loses nothing and repeats nothing.
4. **Retry**: an error is retried with backoff; an event that keeps failing, or can
   never succeed, is quarantined with its reason until a person replays it.

The timer tick (adesso/ops/timers.py) enqueues processing when due events wait:
the safety net for a task the queue lost.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from adesso.channels.base import (
    ChannelKind,
    EventIdentity,
    Ignored,
    InboundError,
    InboundMessage,
    InboundSender,
    MessageEdit,
    Normalised,
    Reaction,
    StatusUpdate,
    VerificationError,
)
from adesso.channels.models import PENDING_STATES, Channel, EventState, InboundEvent, ProcessingWanted
from adesso.channels.registry import get_kind
from adesso.lib.codes import new_code

log = logging.getLogger(__name__)

# Longer than processing one batch may take: past it, the worker is presumed dead
# and its unfinished events are claimed again (their finished ones stay finished).
LEASE = dt.timedelta(minutes=2)
BATCH = 100
# A batch is parsed whole before it is applied: its raw bodies are held in memory
# together. Events are taken while their bodies add up to this much (at least one):
# a hundred 50 MB mails are not read at once.
BATCH_BYTES = 16 * 1024 * 1024
# Waits after the 1st, 2nd... failed attempt; after the last, quarantine.
RETRY_DELAYS = (10, 60, 5 * 60, 30 * 60, 2 * 60 * 60)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# An event whose sender has an earlier one still waiting is looked at again after this.
DEFER = dt.timedelta(seconds=1)
MAX_ERROR_CHARS = 1000
# Shown before the text of an edited message (stored as a new message: the original stays).
EDIT_MARK = "\u270f\ufe0f "


# --- accept ---------------------------------------------------------------------


class Stored(NamedTuple):
    """What accepting stored: the event's row, its code, the message code promised with it,
    and whether it is new (False: a repeat of the provider's id, the stored event's codes)."""

    pk: int
    code: str
    message_code: str
    created: bool


def store(
    channel: Channel,
    identity: EventIdentity,
    body: bytes,
    headers: dict[str, str] | None = None,
    message_code: str = "",
    now: dt.datetime | None = None,
) -> Stored:
    """Store a verified raw event once (the unique constraint decides what a repeat is),
    with no model object: the webhooks' path, where building one was a tenth of the work.
    `message_code`, when given, is promised to the caller: the event's message gets it."""
    when = connection.ops.adapt_datetimefield_value(now or timezone.now())
    code = new_code()
    external_id = identity.external_id[:200]
    params: list[Any] = [
        channel.organization_id,
        channel.pk,
        code,
        external_id,
        f"{channel.pk}/{identity.sender_key}"[:200] if identity.sender_key else "",
        identity.position,
        json.dumps(headers) if headers else "{}",
        body,
        when,
        EventState.ACCEPTED.value,
        when,
        message_code,
    ]
    try:
        if connection.in_atomic_block:
            # Inside the caller's transaction: a savepoint, so that a repeat does not
            # break it (PostgreSQL aborts a transaction at its first error).
            with transaction.atomic():
                pk, wanted = _insert(params)
        else:
            pk, wanted = _insert(params)
    except IntegrityError:
        row = (
            InboundEvent.objects.filter(channel_id=channel.pk, external_id=external_id)
            .values_list("pk", "code", "message_code")
            .first()
        )
        if row is None:
            raise
        return Stored(row[0], row[1], row[2], False)
    if wanted:
        # robust: a task queue that is down must not refuse the provider's event; the
        # timer tick enqueues processing for due events anyway.
        transaction.on_commit(_enqueue, robust=True)
    return Stored(pk, code, message_code, True)


def accept(
    channel: Channel,
    identity: EventIdentity,
    body: bytes,
    headers: dict[str, str] | None = None,
    message_code: str = "",
) -> tuple[InboundEvent, bool]:
    """`store`, returning the event as a model object and whether it is new (a repeat of
    the provider's id returns the stored event)."""
    now = timezone.now()
    stored = store(channel, identity, body, headers, message_code, now)
    if not stored.created:
        return InboundEvent.objects.get(pk=stored.pk), False
    event = _new_event(
        id=stored.pk,
        organization_id=channel.organization_id,
        channel_id=channel.pk,
        code=stored.code,
        external_id=identity.external_id[:200],
        sender_key=f"{channel.pk}/{identity.sender_key}"[:200] if identity.sender_key else "",
        position=identity.position,
        headers=headers or {},
        body=body,
        received_at=now,
        next_attempt_at=now,
        message_code=message_code,
    )
    event.channel = channel
    event._state.adding = False
    return event, True


def _new_event(**values: Any) -> InboundEvent:
    """An unsaved InboundEvent built the way rows read from the database are (by position):
    faster than the keyword constructor."""
    row = [values[name] if name in values else default() for name, default in _event_defaults()]
    return InboundEvent(*row)


@functools.cache
def _event_defaults() -> list[tuple[str, Callable[[], Any]]]:
    """Each column's name and how to fill it when not given (looked up once per process)."""
    return [(f.attname, f.get_default) for f in InboundEvent._meta.concrete_fields]


# Hand-written SQL: the one statement of a webhook's request, where the ORM's save
# (signals, per-field preparation, compiling) cost more than the database's work.
# The event and the wish for processing (`ProcessingWanted`, see below) are written by
# this one statement, in autocommit: one commit, as the bare one-INSERT view does.
# On SQLite a trigger writes the wish (migration channels 0006); on PostgreSQL a second
# INSERT in the same statement (a data-modifying WITH).
_INSERT_SQL = (
    "INSERT INTO channels_inboundevent (organization_id, channel_id, code, external_id, sender_key,"
    " position, headers, body, received_at, state, attempts, next_attempt_at, lease, outcome,"
    " message_code, note, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, '', '', %s, '', '')"
    " RETURNING id"
)
# SQLite: the same statement run on the driver's own connection (qmark parameters), past
# Django's cursor wrappers; errors still come out as Django's (a repeat: IntegrityError).
_INSERT_SQL_SQLITE = _INSERT_SQL.replace("%s", "?")


# PostgreSQL: the body as a binary parameter (%b, server-side binding) instead of an
# escaped literal in the statement's text: a 1 MB mail is stored in 20-30 ms, not 75-90.
_INSERT_SQL_PG = (
    "WITH event AS ("  # noqa: S608 (constant text, no input in it)
    + _INSERT_SQL.replace("%s, %s, %s, %s, %s, %s, %s, %s,", "%s, %s, %s, %s, %s, %s, %s, %b,", 1)
    + "), wish AS (INSERT INTO channels_processingwanted (id) VALUES (1) ON CONFLICT DO NOTHING RETURNING id)"
    " SELECT (SELECT id FROM event), (SELECT count(*) FROM wish)"
)


def _insert(params: list[Any]) -> tuple[int, bool]:
    """INSERT the event and the wish for processing: the event's pk, and True when the
    wish is new, that is when no processing task has been asked for since the last one
    started."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        import psycopg

        # The same connection and transaction; errors as Django's (a repeat: IntegrityError).
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
            raw.execute(_INSERT_SQL_PG, params)
            row = raw.fetchone()
        assert row is not None
        return row[0], bool(row[1])
    sqlite = connection.connection
    before = sqlite.total_changes
    with connection.wrap_database_errors:
        row = sqlite.execute(_INSERT_SQL_SQLITE, params).fetchone()
    # The trigger's row counts in total_changes (not in changes()): 2 = a new wish.
    return row[0], sqlite.total_changes - before > 1


def kick_after_commit() -> None:
    """Ask for processing once the current transaction commits: one task for a burst.

    The `ProcessingWanted` row says a task was asked for and has not started yet: an
    event committed meanwhile needs no task of its own, since that task claims after it
    starts (and first deletes the row, so that events committed after that ask again).
    `accept` writes the row with its event; this is for everything else (a backlog's
    next task). Call it inside a transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute(_WANT_SQL)
        asked_already = cursor.rowcount == 0
    if not asked_already:
        # robust: a task queue that is down must not refuse the provider's event; the
        # timer tick enqueues processing for due events anyway.
        transaction.on_commit(_enqueue, robust=True)


# Hand-written SQL: one statement, whatever the database (both have ON CONFLICT).
_WANT_SQL = "INSERT INTO channels_processingwanted (id) VALUES (1) ON CONFLICT DO NOTHING"


def enqueue_after_commit() -> None:
    """Ask for processing after commit whatever was asked before (a replay, the timer)."""
    transaction.on_commit(_enqueue, robust=True)


def _enqueue() -> None:
    from adesso.channels.tasks import process_inbound

    process_inbound.enqueue()


def started_processing() -> None:
    """Called by the task before it claims anything (see kick_after_commit)."""
    ProcessingWanted.objects.all().delete()


def _json(status: int, data: dict[str, object]) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


_CHANNEL_SQL = "SELECT * FROM channels_channel WHERE code = %s AND kind = %s"
# Channels recently looked up by this process: a provider's burst reads its channel once.
# A change (a new secret, disabling) reaches the webhook within CHANNEL_CACHE_SECONDS.
CHANNEL_CACHE_SECONDS = 5.0
_channels: dict[tuple[str, str], tuple[float, Channel]] = {}


def _channel(kind_name: str, code: str) -> Channel | None:
    key, now = (kind_name, code), time.monotonic()
    cached = _channels.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    # Hand-written SQL: a unique-index hit the ORM spends longer compiling than the
    # database answering (the same as the api kind's intake, docs/performance.md).
    found = list(Channel.objects.raw(_CHANNEL_SQL, [code, kind_name]))
    if not found:
        return None  # unknown codes are not remembered: nobody can fill the memory
    if len(_channels) > 1000:
        _channels.clear()
    _channels[key] = (now + CHANNEL_CACHE_SECONDS, found[0])
    return found[0]


def find_channel(kind_name: str, code: str) -> Channel | None:
    """The channel of an inbound address, for a kind's own view (remembered as above)."""
    return _channel(kind_name, code)


def receive_webhook(request: HttpRequest, kind_name: str, channel_code: str) -> HttpResponse:
    """The inbound view of every kind on the pipeline: verify, store, answer."""
    if request.method != "POST":
        return _json(405, {"error": "method_not_allowed", "message": "POST the provider's events here"})
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.ADESSO_MAX_BODY_BYTES:
        return _json(
            413,
            {
                "error": "too_large",
                "message": f"The body is {length} bytes; the limit is {settings.ADESSO_MAX_BODY_BYTES}",
            },
        )
    channel = _channel(kind_name, channel_code)
    if channel is None:
        return _json(404, {"error": "unknown_channel", "message": f"No {kind_name} channel with code {channel_code!r}"})
    kind = get_kind(kind_name)
    try:
        kind.verify(channel, request)
    except VerificationError as exc:
        return _json(401, {"error": "unauthorized", "message": str(exc)})
    if not channel.is_enabled:
        return _json(404, {"error": "channel_disabled", "message": "This channel is disabled"})
    body = request.body
    try:
        identity = kind.identify(channel, body)
    except InboundError as exc:
        return _json(400, {"error": "invalid", "message": str(exc)})
    headers = {name: request.headers[name] for name in kind.stored_headers if name in request.headers}
    stored = store(channel, identity, body, headers)
    return _json(200, {"event": stored.code, "duplicate": not stored.created})


# --- claim and process ----------------------------------------------------------------


def _due(now: dt.datetime) -> Q:
    return Q(state__in=PENDING_STATES, next_attempt_at__lte=now) & (
        Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    )


@dataclass
class Claim:
    lease: str
    events: list[InboundEvent]
    more: bool = False  # more were due than this batch took


def claim(now: dt.datetime | None = None, limit: int = BATCH) -> Claim:
    """Lease a batch of due events to this worker, ordered for processing: by sender,
    then the provider's order. Several workers never hold the same event."""
    now = now or timezone.now()
    lease = new_code(16)
    with transaction.atomic():
        due = InboundEvent.objects.filter(_due(now)).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due.values_list("pk", Length("body"))[:limit])
        ids = _within_bytes(rows)
        if not ids:
            return Claim(lease, [])
        # Compare-and-set: only rows still due (and not leased meanwhile) are taken.
        InboundEvent.objects.filter(_due(now), pk__in=ids).update(
            lease=lease, leased_until=now + LEASE, attempts=F("attempts") + 1
        )
    events = list(InboundEvent.objects.filter(pk__in=ids, lease=lease).order_by("sender_key", "position", "pk"))
    # Each channel read once for the batch (not once per event: a row's secrets are decrypted as it is read).
    channels = Channel.objects.in_bulk({event.channel_id for event in events})
    for event in events:
        event.channel = channels[event.channel_id]
    return Claim(lease, events, more=len(rows) == limit or len(ids) < len(rows))


def _within_bytes(rows: list[tuple[int, int | None]]) -> list[int]:
    """The first events whose bodies add up to at most BATCH_BYTES (always the first)."""
    ids: list[int] = []
    total = 0
    for pk, size in rows:
        total += size or 0
        if ids and total > BATCH_BYTES:
            break
        ids.append(pk)
    return ids


def do_process_events(now: dt.datetime | None = None, limit: int = BATCH, max_batches: int = 50) -> int:
    """Claim and process batches until nothing is due; returns how many were finished."""
    done = 0
    for _ in range(max_batches):
        batch = claim(now, limit)
        if not batch.events:
            break
        if batch.more:
            # A backlog: one more task, for another worker to share it (SKIP LOCKED), or
            # to go on after this one's last batch (at most one is waiting at a time).
            with transaction.atomic():
                kick_after_commit()
        states = process_batch(batch.events, batch.lease)
        done += sum(1 for state in states if state != "deferred")
        if "deferred" in states:
            # Their earlier events are in another worker's hands: look again in a moment
            # (not only when the next event arrives, or the timer's safety net).
            transaction.on_commit(_enqueue_after_deferral, robust=True)
    return done


def _enqueue_after_deferral() -> None:
    from django_tasks import default_task_backend

    from adesso.channels.tasks import process_inbound

    task = process_inbound
    if default_task_backend.supports_defer:
        task = task.using(run_after=timezone.now() + DEFER)
    task.enqueue()


def customers_waiting(now: dt.datetime | None = None) -> bool:
    """Whether inbound events are due or being processed (a burst): one indexed query.
    Work nobody waits for (the insights' analysis) steps aside meanwhile."""
    return InboundEvent.objects.filter(state__in=PENDING_STATES, next_attempt_at__lte=now or timezone.now()).exists()


def do_dispatch_due_events(now: dt.datetime | None = None) -> int:
    """The timer's safety net: enqueue processing when due events wait (a lost task,
    a retry whose time has come, a worker's expired lease). Returns 1 if it did."""
    now = now or timezone.now()
    if not InboundEvent.objects.filter(_due(now)).exists():
        return 0
    # Straight to the queue: the task asked for may be the one that was lost.
    enqueue_after_commit()
    return 1


def process(event: InboundEvent, lease: str) -> str:
    """Process one leased event; returns its new state (or "deferred")."""
    return process_batch([event], lease)[0]


@dataclass
class _Parsed:
    items: list[Normalised]
    error: str = ""
    permanent: bool = False


def process_batch(events: list[InboundEvent], lease: str) -> list[str]:
    """Process leased events (sorted by sender, then the provider's order) in ONE
    transaction; returns each one's new state (or "deferred").

    Parsing and fetching files happen first, outside any transaction. Then one
    transaction applies every event, each under a savepoint (an event that fails rolls
    back alone and is recorded as failed), and records all outcomes with one statement
    per kind of outcome; the lease is checked on every row. A worker that dies before
    the commit leaves the whole batch as it was, leased: another worker claims it
    again once the lease has run out, and nothing was done twice.
    """
    parsed = [_parse(event) for event in events]
    try:
        try:
            # Optimistic: no savepoint per event (they were a third of the statements).
            return _apply_batch(events, parsed, lease, careful=False)
        except _LeaseLost:
            raise
        except Exception:
            # Some event failed and the batch rolled back whole: again, with a savepoint
            # per event, so that only the failing one fails.
            log.info("Inbound batch of %s events: an event failed; applying them one by one", len(events))
            return _apply_batch(events, parsed, lease, careful=True)
    except _LeaseLost:
        return ["lost"] * len(events)
    except Exception:
        if len(events) == 1:
            log.exception("Inbound event %s: processing failed", events[0].code)
            exc = _last_error()
            return [_fail_now(events[0], lease, exc)]
        # Something broke the batch's transaction itself: one event at a time, so that
        # one poisoned event cannot hold the others back.
        log.exception("Inbound batch of %s events failed; processing them one at a time", len(events))
        return [process_batch([event], lease)[0] for event in events]


def _last_error() -> str:
    import sys

    exc = sys.exc_info()[1]
    return f"{type(exc).__name__}: {exc}" if exc else "unknown error"


def _parse(event: InboundEvent) -> _Parsed:
    channel = event.channel
    try:
        kind = get_kind(channel.kind)
        items = kind.parse(channel, bytes(event.body))
        _keep_promise(items, event.message_code)
        _fetch_files(kind, channel, items)
    except InboundError as exc:
        return _Parsed([], f"Cannot be processed: {exc}", permanent=True)
    except Exception as exc:
        log.exception("Inbound event %s: parse failed", event.code)
        return _Parsed([], f"{type(exc).__name__}: {exc}")
    return _Parsed(items)


_FINISH_SQL = (
    "UPDATE channels_inboundevent SET state = %s, outcome = %s, message_code = %s, note = %s, error = '',"
    " processed_at = %s, next_attempt_at = NULL, leased_until = NULL, lease = '' WHERE id = %s AND lease = %s"
)


@functools.cache
def _finish_unnest_sql() -> str:
    """_FINISH_SQL for a whole batch on PostgreSQL: the rows' values as arrays, in the
    order of _FINISH_SQL's (state, outcome, message code, note, processed at, id)."""
    from adesso.lib.rowsql import array_type

    field = InboundEvent._meta.get_field
    types = [array_type(field(name)) for name in ("state", "outcome", "message_code", "note", "processed_at", "id")]  # type: ignore[arg-type]
    return (
        "UPDATE channels_inboundevent AS e SET state = v.state, outcome = v.outcome, message_code = v.message_code,"  # noqa: S608 (types from the model)
        " note = v.note, error = '', processed_at = v.processed_at, next_attempt_at = NULL, leased_until = NULL,"
        " lease = '' FROM UNNEST("
        + ", ".join(f"(%s)::{t}" for t in types)
        + ") AS v(state, outcome, message_code, note, processed_at, id) WHERE e.id = v.id AND e.lease = %s"
    )


_FAIL_SQL = (
    "UPDATE channels_inboundevent SET state = %s, error = %s, next_attempt_at = %s, leased_until = NULL,"
    " lease = '', processed_at = %s WHERE id = %s AND lease = %s"
)
_DEFER_SQL = (
    "UPDATE channels_inboundevent SET lease = '', leased_until = NULL, attempts = attempts - 1,"
    " next_attempt_at = %s WHERE id = %s AND lease = %s"
)


def _apply_batch(events: list[InboundEvent], parsed: list[_Parsed], lease: str, careful: bool = True) -> list[str]:
    """Apply a claimed batch in one transaction. `careful`: each event under a savepoint
    (one that fails is recorded failed, the others go on); else none, and any error
    rolls the whole batch back (the caller then applies it carefully)."""
    from adesso.lib import batch as batch_scope

    states: list[str] = []
    finished: list[list[Any]] = []
    failed: list[list[Any]] = []
    deferred: list[list[Any]] = []
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), batch_scope.scope(careful):
        now = timezone.now()
        waiting = _earlier_waiting(events, lease)
        _prefetch(events, parsed)
        held: set[str] = set()  # senders with an event deferred in this batch
        for event, result in zip(events, parsed, strict=True):
            key = event.sender_key
            if key and (key in held or waiting.get(key, event.position) < event.position):
                held.add(key)
                states.append("deferred")
                deferred.append([adapt(now + DEFER), event.pk, lease])
                continue
            if result.error:
                state, row = _failure(event, result.error, result.permanent, now)
                states.append(state)
                failed.append([*row, event.pk, lease])
                continue
            if not careful:
                outcome = _apply(event.channel, result.items, event)
                states.append(_finished(finished, event, outcome, lease))
                continue
            kept = batch_scope.mark()
            try:
                with transaction.atomic():
                    outcome = _apply(event.channel, result.items, event)
            except Exception as exc:
                batch_scope.discard(kept)  # the rows it kept for later rolled back with it
                log.exception("Inbound event %s: processing failed", event.code)
                state, row = _failure(event, f"{type(exc).__name__}: {exc}", False, now)
                states.append(state)
                failed.append([*row, event.pk, lease])
                continue
            states.append(_finished(finished, event, outcome, lease))
        batch_scope.flush_inserts()
        written = 0
        with connection.cursor() as cursor:
            if finished and connection.vendor == "postgresql":
                # One statement for the batch's outcomes (one array per column).
                columns = [list(column) for column in zip(*(row[:6] for row in finished), strict=True)]
                cursor.execute(_finish_unnest_sql(), [*columns, lease])
                written += cursor.rowcount
                finished = []
            for sql, rows in ((_FINISH_SQL, finished), (_FAIL_SQL, failed), (_DEFER_SQL, deferred)):
                if rows:
                    cursor.executemany(sql, rows)
                    written += cursor.rowcount
        if written != len(events):
            # A lease ran out and another worker has (some of) these events: undo it all,
            # that worker finishes them.
            raise _LeaseLost
    return states


def _finished(finished: list[list[Any]], event: InboundEvent, outcome: Outcome, lease: str) -> str:
    """Add the event's outcome row (written with the batch's others); its new state."""
    state = EventState.IGNORED if outcome.ignored else EventState.PROCESSED
    finished.append(
        [
            state.value,
            ",".join(outcome.kinds)[:100],
            outcome.message_code,
            "\n".join(outcome.notes)[:MAX_ERROR_CHARS],
            connection.ops.adapt_datetimefield_value(timezone.now()),
            event.pk,
            lease,
        ]
    )
    return str(state)


class _LeaseLost(Exception):
    pass


def _prefetch(events: list[InboundEvent], parsed: list[_Parsed]) -> None:
    """Look up the batch's senders at once, per channel (adesso.contacts.actions)."""
    from adesso.contacts.actions import prefetch_contacts

    senders: dict[int, tuple[Channel, list[InboundSender]]] = {}
    for event, result in zip(events, parsed, strict=True):
        for item in result.items:
            if isinstance(item, InboundMessage | MessageEdit):
                senders.setdefault(event.channel_id, (event.channel, []))[1].append(item.sender)
    for channel, found in senders.values():
        prefetch_contacts(channel, found)


def _earlier_waiting(events: list[InboundEvent], lease: str) -> dict[str, int]:
    """For the batch's senders: the lowest position of an event of theirs waiting outside
    this batch (not tried yet, or in another worker's hands): their later events wait
    for it. An earlier one that failed does not hold the sender's later events back
    while it waits for its retry. One query for the whole batch."""
    keys = sorted({e.sender_key for e in events if e.sender_key})
    if not keys:
        return {}
    rows = (
        InboundEvent.objects.filter(sender_key__in=keys, next_attempt_at__isnull=False, state=EventState.ACCEPTED)
        .exclude(lease=lease)
        .values_list("sender_key", "position")
    )
    lowest: dict[str, int] = {}
    for key, position in rows:
        lowest[key] = min(position, lowest.get(key, position))
    return lowest


def _failure(event: InboundEvent, error: str, permanent: bool, now: dt.datetime) -> tuple[str, list[Any]]:
    """The state of a failed attempt and the row of _FAIL_SQL (without id and lease)."""
    error = error[:MAX_ERROR_CHARS]
    if permanent or event.attempts >= MAX_ATTEMPTS:
        state, next_at = EventState.QUARANTINED, None
        if not permanent:
            error = f"{error} (gave up after {event.attempts} attempts)"
    else:
        state = EventState.FAILED
        next_at = now + dt.timedelta(seconds=RETRY_DELAYS[max(event.attempts, 1) - 1])
    log.warning("Inbound event %s, attempt %s, now %s: %s", event.code, event.attempts, state, error)
    adapt = connection.ops.adapt_datetimefield_value
    return str(state), [state.value, error, adapt(next_at), adapt(now)]


def _fail_now(event: InboundEvent, lease: str, error: str) -> str:
    """Record a failure in a transaction of its own (the batch's was rolled back)."""
    state, row = _failure(event, error, False, timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_FAIL_SQL, [*row, event.pk, lease])
    return state


def _keep_promise(items: list[Normalised], message_code: str) -> None:
    """The event's first message gets the code promised on accept (the API kind's 202)."""
    for item in items:
        if message_code and isinstance(item, InboundMessage) and not item.code:
            item.code = message_code
            return


def _fetch_files(kind: ChannelKind, channel: Channel, items: list[Normalised]) -> None:
    """Download the files a provider holds, outside any transaction. A file that cannot
    be had (too big, gone) is named in the text instead of failing the message."""
    for item in items:
        if not isinstance(item, InboundMessage):
            continue
        for remote in item.remote_attachments:
            try:
                item.attachments.append(kind.fetch_attachment(channel, remote))
            except InboundError as exc:
                item.text = f"{item.text}\n[{remote.filename}: {exc}]".strip()
        item.remote_attachments = []


# --- outcomes -----------------------------------------------------------------------


@dataclass
class Outcome:
    kinds: list[str]
    notes: list[str]
    message_code: str = ""

    @property
    def ignored(self) -> bool:
        return not self.kinds or self.kinds == ["ignored"] * len(self.kinds)


def _apply(channel: Channel, items: list[Normalised], event: InboundEvent | None = None) -> Outcome:
    from adesso.conversations.models import Message
    from adesso.intake.actions import do_receive_message

    outcome = Outcome([], [])
    kind = get_kind(channel.kind)
    for item in items:
        # A kind's own storage first (email keeps each mail whole with its headers).
        applied = kind.apply(channel, item, event) if event is not None else None
        if applied is not None:
            outcome.kinds.append(applied[0])
            outcome.notes.append(applied[1])
            outcome.message_code = outcome.message_code or applied[2]
        elif isinstance(item, InboundMessage):
            if event is not None and item.received_at is None:
                item.received_at = event.received_at
            received = do_receive_message(channel, item)
            outcome.kinds.append("message")
            outcome.message_code = outcome.message_code or received.message.code
            if not received.created:
                outcome.notes.append(f"message {item.external_id} had been received before")
        elif isinstance(item, MessageEdit):
            original = (
                Message.objects.select_related("conversation")
                .filter(channel=channel, external_id=item.external_id)
                .first()
            )
            received = do_receive_message(
                channel,
                InboundMessage(
                    external_id=item.edit_id,
                    sender=item.sender,
                    text=EDIT_MARK + item.text,
                    sent_at=item.edited_at,
                    received_at=event.received_at if event is not None else None,
                    thread=original.conversation.code if original else "",
                ),
            )
            outcome.kinds.append("edit")
            outcome.message_code = outcome.message_code or received.message.code
            outcome.notes.append(f"edit of {original.code if original else 'a message not received'}")
        elif isinstance(item, StatusUpdate):
            outcome.kinds.append("status")
            outcome.notes.append(_status_update(channel, item))
        elif isinstance(item, Reaction):
            outcome.kinds.append("reaction")
            outcome.notes.append(f"reaction {item.emoji or '(removed)'} to {item.external_id}")
        elif isinstance(item, Ignored):
            outcome.kinds.append("ignored")
            outcome.notes.append(item.reason)
    if not items:
        outcome.notes.append("nothing in it for Adesso")
    return outcome


def _status_update(channel: Channel, update: StatusUpdate) -> str:
    """A provider's news about one of our messages: a failure shows on the message."""
    from adesso.conversations.models import DeliveryStatus, Message
    from adesso.outbox.models import Delivery

    delivery = Delivery.objects.filter(channel=channel, provider_message_id=update.provider_message_id).first()
    if delivery is None:
        return f"{update.status} for unknown message {update.provider_message_id}"
    if update.status == "failed":
        Message.objects.filter(pk=delivery.message_id).update(delivery_status=DeliveryStatus.FAILED)
    return f"{update.status} for delivery {delivery.pk}" + (f": {update.error}" if update.error else "")
