"""Work done in batches: what one batch of the inbound pipeline's worker shares.

The worker applies a batch of events in one transaction (adesso/channels/pipeline.py).
Inside `scope()`:

- `memo(key, compute)` remembers what every message of the batch would read again
  (the organisation's settings, SLA policies, the online agents): once per batch,
  not once per message. A batch lasts well under a second, so a change made
  meanwhile counts from the next batch on.
- `insert_later(row)` keeps rows nobody reads back within the batch (conversation
  events, automatic messages, their deliveries) for one INSERT per table when the
  batch ends (`flush_inserts`, called by the pipeline before it commits), instead of
  one INSERT each. A message that fails rolls back to its savepoint: the pipeline
  drops its rows with `mark()` / `discard(mark)`. In a batch applied optimistically
  (`deferring()`), intake keeps a new sender's contact, identity, conversation and
  message this way too: the batch remembers them (they have no primary key until the
  flush), and whoever must count or read such rows in the database first calls
  `flush_inserts()`.
- `update_later(sql, params)` likewise keeps UPDATEs of rows nobody reads back within
  the batch (an acknowledgement's promise): one `executemany` per statement.
- `collect(name, item, flush)` gathers what each message would ask of the task queue
  (a delivery to send): `flush(items)` runs once, after the batch commits, with all
  of them, instead of one task per message.

Outside a scope they do what a single message does: `memo` computes, `insert_later`
and `collect` return False and the caller goes on as usual.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model

T = TypeVar("T")


class _Batch:
    def __init__(self, careful: bool) -> None:
        self.careful = careful
        self.memo: dict[Any, Any] = {}
        self.collected: dict[str, tuple[Callable[[list[Any]], None], list[Any]]] = {}
        self.rows: list[Model] = []
        self.updates: list[tuple[str, list[Any]]] = []
        self.dirty: dict[int, tuple[Model, set[str]]] = {}

    def flush(self) -> None:
        for flush, items in self.collected.values():
            flush(items)


_current: ContextVar[_Batch | None] = ContextVar("adesso_batch", default=None)


@contextlib.contextmanager
def scope(careful: bool = True) -> Iterator[None]:
    """A batch, inside the transaction that applies it (its collections are flushed
    after that transaction commits, and dropped if it rolls back).

    `careful=False`: the batch is applied without a savepoint per message, and the
    caller redoes it carefully (one savepoint each) if anything fails: see `careful()`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a batch scope belongs inside the batch's transaction")
    batch = _Batch(careful)
    # Registered at the batch's own level, not inside a message's savepoint: a message
    # rolled back alone cannot take the flush with it.
    transaction.on_commit(batch.flush, robust=True)
    token = _current.set(batch)
    try:
        yield
    finally:
        _current.reset(token)


def active() -> bool:
    return _current.get() is not None


def careful() -> bool:
    """False inside a batch applied optimistically: an error anywhere rolls the whole
    batch back and it is applied again with a savepoint per message, so a step may skip
    the savepoint it would take to recover from its own error (a repeated message).
    True everywhere else."""
    batch = _current.get()
    return batch is None or batch.careful


def deferring() -> bool:
    """Inside a batch applied optimistically: new rows that the batch itself remembers
    (intake's contacts, conversations, messages) may wait for the batch's flush, since
    a repeated row fails the whole batch anyway and it is applied again carefully."""
    batch = _current.get()
    return batch is not None and not batch.careful


def pending() -> bool:
    """Whether rows wait for the batch's flush."""
    batch = _current.get()
    return batch is not None and bool(batch.rows or batch.updates or batch.dirty)


def memo(key: Any, compute: Callable[[], T]) -> T:
    """`compute()`, once per batch for the same key (every time outside a batch)."""
    batch = _current.get()
    if batch is None:
        return compute()
    if key not in batch.memo:
        batch.memo[key] = compute()
    return batch.memo[key]  # type: ignore[no-any-return]


def collect(name: str, item: Any, flush: Callable[[list[Any]], None]) -> bool:
    """Inside a batch: add `item` to the batch's `name` list, handed to `flush` after
    commit; True. Outside a batch: False (the caller does the single-message thing).
    An item added by a message that rolled back is still handed over: `flush` must
    tolerate items whose rows do not exist."""
    batch = _current.get()
    if batch is None:
        return False
    batch.collected.setdefault(name, (flush, []))[1].append(item)
    return True


def insert_later(row: Model) -> bool:
    """Inside a batch: keep `row` (unsaved) for the batch's bulk INSERT; True. Its
    primary key is set when the batch flushes; foreign keys to rows kept before it
    are resolved then. Outside a batch: False (save it now)."""
    batch = _current.get()
    if batch is None:
        return False
    batch.rows.append(row)
    return True


def update_row_later(row: Model, names: list[str]) -> bool:
    """In a batch applied optimistically (`deferring()`): keep the row's UPDATE of these
    fields for the batch's flush, which writes each kept row once, with its values then
    (the batch holds the one object it changes, message after message); True. Else
    False (update it now). Whoever reads such rows in the database first flushes."""
    batch = _current.get()
    if batch is None or batch.careful or row.pk is None:
        return False
    kept = batch.dirty.get(id(row))
    if kept is None:
        batch.dirty[id(row)] = (row, set(names))
    else:
        kept[1].update(names)
    return True


def update_later(sql: str, params: list[Any]) -> bool:
    """Inside a batch: keep an UPDATE (hand-written SQL) for the batch's flush; True.
    Outside: False (run it now)."""
    batch = _current.get()
    if batch is None:
        return False
    batch.updates.append((sql, params))
    return True


def mark() -> tuple[int, int]:
    """Where the kept rows stand (to `discard` back to when a message rolls back)."""
    batch = _current.get()
    return (len(batch.rows), len(batch.updates)) if batch is not None else (0, 0)


def discard(position: tuple[int, int]) -> None:
    """A message rolled back (to its savepoint): drop what it kept for later, and what
    the batch remembers (it may name rows that rolled back with it)."""
    batch = _current.get()
    if batch is not None:
        del batch.rows[position[0] :]
        del batch.updates[position[1] :]
        batch.memo.clear()


def forget() -> None:
    """Something rolled back inside a message: what the batch remembers may name rows
    that are gone; read them again."""
    batch = _current.get()
    if batch is not None:
        batch.memo.clear()


def _by_dependency(models: list[type[Model]]) -> list[type[Model]]:
    """The models in an order where each comes after the models its foreign keys point
    to (a conversation after its contact, a message after its conversation), else in
    the order they came."""
    ordered: list[type[Model]] = []
    seen: set[type[Model]] = set()

    def visit(model: type[Model]) -> None:
        if model in seen:
            return
        seen.add(model)
        for field in model._meta.concrete_fields:
            target = field.related_model if field.many_to_one or field.one_to_one else None
            if target in models and target is not model:
                visit(target)  # type: ignore[arg-type]
        ordered.append(model)

    for model in models:
        visit(model)
    return ordered


def flush_inserts() -> int:
    """INSERT the kept rows, one statement per table (in the order their tables first
    came, so that a row's foreign keys point at rows already inserted), then run the
    kept UPDATEs, one `executemany` per statement. Returns how many rows."""
    from django.db import connection

    from adesso.lib import rowsql

    batch = _current.get()
    if batch is None:
        return 0
    by_model: dict[type[Model], list[Model]] = {}
    for row in batch.rows:
        by_model.setdefault(type(row), []).append(row)
    for model in _by_dependency(list(by_model)):
        rows = by_model[model]
        # Statements compiled once (adesso.lib.rowsql), unless the model has save signals.
        if rowsql.usable(model):
            rowsql.insert_many(rows)
        else:
            model._default_manager.bulk_create(rows)
    by_fields: dict[tuple[type[Model], tuple[str, ...]], list[Model]] = {}
    for row, changed in batch.dirty.values():
        by_fields.setdefault((type(row), tuple(sorted(changed))), []).append(row)
    for (_model, fields), kept in by_fields.items():
        rowsql.update_many(kept, list(fields))
    by_sql: dict[str, list[list[Any]]] = {}
    for sql, params in batch.updates:
        by_sql.setdefault(sql, []).append(params)
    with connection.cursor() as cursor:
        for sql, param_list in by_sql.items():
            cursor.executemany(sql, param_list)
    count = len(batch.rows)
    batch.rows, batch.updates, batch.dirty = [], [], {}
    return count
