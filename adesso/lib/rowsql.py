"""Rows' INSERTs and UPDATEs, as `Model.save()` writes them, for the inbound hot path.

`save()` compiles its statement again for every row (per-field SQL, placeholders,
RETURNING), and `bulk_create` likewise for every batch: for the worker of the inbound
pipeline that was a third of the CPU of a new customer's message (docs/performance.md,
"Inbound pipeline"). These build each statement once per model (and set of fields, and
number of rows) and then only prepare the values. A value is prepared as the field's own
`pre_save` and `get_db_prep_save` would, with a shortcut for the common case: a plain
`str`, `int`, `bool` or `None` in a text, integer, boolean or foreign-key column goes to
the database as it is (in a text column any `str`, as the field itself does), an aware
datetime in a datetime column and a dict or list in a JSON column through the
database's own adapter (tests/test_rowsql.py compares every path with `save()`).

They send no `pre_save`/`post_save` signal: use them only for models that have no
receivers (tests/test_rowsql.py checks the ones used here) and no parent model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import DateTimeField, Field, ForeignKey, JSONField, Model, signals

# Columns whose value the database takes as it is when it is exactly of these types.
_PLAIN_COLUMNS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "URLField",
}
_TEXT_COLUMNS = {"CharField", "EmailField", "SlugField", "TextField", "URLField"}
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})
# Rows per multi-row INSERT: well under SQLite's 32,766 parameters for our widest table.
_MAX_ROWS = 200
# PostgreSQL takes a batch's rows as one array per column (`_insert_unnest`).
_MAX_ROWS_UNNEST = 2000

Preparer = Callable[[Model], Any]


def _preparer(field: Field[Any, Any], add: bool) -> Preparer:
    """How one column's value is read off a row and made ready for the database."""
    attname = field.attname

    def slow(row: Model) -> Any:
        return field.get_db_prep_save(field.pre_save(row, add), connection)

    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return slow  # pre_save sets the time
    if isinstance(field, DateTimeField):
        adapt = connection.ops.adapt_datetimefield_value
        # SQLite stores UTC as text: what its adapter makes of an aware UTC time.
        utc_text = connection.vendor == "sqlite" and connection.timezone_name == "UTC"

        def when(row: Model) -> Any:
            value = getattr(row, attname)
            if value is None:
                return None
            if value.tzinfo is None:
                return slow(row)  # naive: Django's own path (a warning, the default zone)
            if utc_text and value.tzinfo is dt.UTC:
                return str(value.replace(tzinfo=None))
            return adapt(value)

        return when
    if isinstance(field, JSONField):
        adapt_json, encoder = connection.ops.adapt_json_value, field.encoder

        def document(row: Model) -> Any:
            value = getattr(row, attname)
            return adapt_json(value, encoder) if type(value) in (dict, list) else slow(row)

        return document
    if field.get_internal_type() in _TEXT_COLUMNS:

        def text(row: Model) -> Any:
            value = getattr(row, attname)
            # As the field's own preparation: any str (a TextChoices member too) as it is.
            return value if value is None or isinstance(value, str) else slow(row)

        return text
    if isinstance(field, ForeignKey) or field.get_internal_type() in _PLAIN_COLUMNS:
        if isinstance(field, ForeignKey) and field.target_field.get_internal_type() not in _PLAIN_COLUMNS:
            return slow

        def plain(row: Model) -> Any:
            value = getattr(row, attname)
            return value if type(value) in _PLAIN_TYPES else slow(row)

        return plain
    return slow


@cache
def _insert(model: type[Model], vendor: str, rows: int = 1) -> tuple[str, list[Preparer]]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not getattr(f, "db_returning", False)]
    quote = connection.ops.quote_name
    one = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)})"  # noqa: S608
        f" VALUES {', '.join([one] * rows)} RETURNING {quote(str(meta.pk.column))}"
    )
    return sql, [_preparer(f, True) for f in fields]


@cache
def _insert_unnest(model: type[Model]) -> tuple[str, list[Preparer]]:
    """PostgreSQL: many rows as one array per column (as Django's own bulk_create does
    since 5.2): a short statement whatever the rows, so psycopg parses it once and the
    server plans it once, instead of a placeholder per value."""
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not getattr(f, "db_returning", False)]
    quote = connection.ops.quote_name
    arrays = ", ".join(f"(%s)::{array_type(f)}" for f in fields)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)})"  # noqa: S608
        f" SELECT * FROM UNNEST({arrays}) RETURNING {quote(str(meta.pk.column))}"
    )
    return sql, [_preparer(f, True) for f in fields]


@cache
def _update(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, list[Preparer]]:
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)  # type: ignore[union-attr]
    sql = f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(str(meta.pk.column))} = %s"  # noqa: S608
    return sql, [_preparer(f, False) for f in fields]  # type: ignore[arg-type]


@cache
def _layout(model: type[Model]) -> list[tuple[str, str | None, Any, bool]]:
    """Each column's attribute name, its relation's name (foreign keys), and its default:
    a value, or a callable to call for each row (the last item says which)."""
    layout = []
    for f in model._meta.concrete_fields:
        name = f.name if f.is_relation else None
        if f.has_default():
            layout.append((f.attname, name, f.default, callable(f.default)))
        elif f.has_db_default():
            layout.append((f.attname, name, f.get_default, True))
        else:
            layout.append((f.attname, name, f.get_default(), False))  # None or "", as Django's
    return layout


M = TypeVar("M", bound=Model)


def new(model: type[M], **values: Any) -> M:
    """`model(**values)`, built the way rows read from the database are (by position):
    the keyword constructor was the hot path's most called function. Values are given
    by column (`conversation_id=`) or by relation (`conversation=`: the object is kept,
    as the keyword constructor keeps it); the other columns get their defaults."""
    args: list[Any] = []
    related: list[tuple[str, Model]] = []
    for attname, name, default, call in _layout(model):
        if attname in values:
            args.append(values.pop(attname))
        elif name is not None and name in values:
            obj = values.pop(name)
            args.append(None if obj is None else obj.pk)
            if obj is not None:
                related.append((name, obj))
        else:
            args.append(default() if call else default)
    if values:
        raise TypeError(f"{model.__name__} has no column {', '.join(values)}")
    row = model(*args)
    for name, obj in related:
        row._state.fields_cache[name] = obj
    return row


def usable(model: type[Model]) -> bool:
    """Whether these may write the model's rows: no parent model, no save signal."""
    return not (model._meta.parents or signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model))


def _check(model: type[Model]) -> None:
    if not usable(model):
        raise TypeError(f"{model.__name__} has parents or save signals: use save()")


def _saved(row: Model, pk: Any) -> None:
    row.pk = pk
    row._state.adding = False
    row._state.db = connection.alias


def insert(row: Model) -> None:
    """`row.save(force_insert=True)`, its statement compiled once per model."""
    model = type(row)
    _check(model)
    sql, prepare = _insert(model, connection.vendor)
    params = [p(row) for p in prepare]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    assert found is not None
    _saved(row, found[0])


def insert_many(rows: Sequence[Model]) -> None:
    """`bulk_create(rows)` for rows of one model: multi-row INSERTs compiled once per
    model and row count; each row's primary key is set (RETURNING gives them in the
    rows' order on SQLite and PostgreSQL, as bulk_create relies on too). Foreign keys
    to rows saved since they were set are taken from those rows, as bulk_create does."""
    if not rows:
        return
    model = type(rows[0])
    _check(model)
    for row in rows:
        row._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    unnest = connection.vendor == "postgresql" and len(rows) > 1
    size = _MAX_ROWS_UNNEST if unnest else _MAX_ROWS
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            if unnest and len(chunk) > 1:
                sql, prepare = _insert_unnest(model)
                cursor.execute(sql, [[p(row) for row in chunk] for p in prepare])
            else:
                sql, prepare = _insert(model, connection.vendor, len(chunk))
                cursor.execute(sql, [p(row) for row in chunk for p in prepare])
            found = cursor.fetchall()
            assert len(found) == len(chunk)
            for row, (pk,) in zip(chunk, found, strict=True):
                _saved(row, pk)


def update(row: Model, names: list[str]) -> None:
    """`row.save(update_fields=names)`, its statement compiled once per model and fields."""
    model = type(row)
    _check(model)
    sql, prepare = _update(model, tuple(dict.fromkeys(names)), connection.vendor)
    params = [p(row) for p in prepare]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, row.pk])


def update_many(rows: Sequence[Model], names: list[str]) -> None:
    """`update(row, names)` for rows of one model: on PostgreSQL one statement for them
    all (one array per column, `_update_unnest`), elsewhere one `executemany`."""
    if not rows:
        return
    model = type(rows[0])
    _check(model)
    fields = tuple(dict.fromkeys(names))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > 1 and len({row.pk for row in rows}) == len(rows):
            sql, prepare = _update_unnest(model, fields)
            cursor.execute(sql, [[row.pk for row in rows], *([p(row) for row in rows] for p in prepare)])
            return
        sql, prepare = _update(model, fields, connection.vendor)
        cursor.executemany(sql, [[*(p(row) for p in prepare), row.pk] for row in rows])


def array_type(field: Field[Any, Any]) -> str:
    """The PostgreSQL array type of a column's values, without a length (varchar[], not
    varchar(50)[]: nothing is truncated); a foreign key's is its target's."""
    return f"{str(field.db_type(connection)).split('(')[0]}[]"


@cache
def _update_unnest(model: type[Model], names: tuple[str, ...]) -> tuple[str, list[Preparer]]:
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    pk = quote(str(meta.pk.column))
    columns = [quote(str(f.column)) for f in fields]  # type: ignore[union-attr]
    arrays = ", ".join(f"(%s)::{array_type(f)}" for f in [meta.pk, *fields])  # type: ignore[list-item, arg-type]
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {', '.join(f'{c} = v.{c}' for c in columns)}"  # noqa: S608
        f" FROM UNNEST({arrays}) AS v({pk}, {', '.join(columns)}) WHERE t.{pk} = v.{pk}"
    )
    return sql, [_preparer(f, False) for f in fields]  # type: ignore[arg-type]
