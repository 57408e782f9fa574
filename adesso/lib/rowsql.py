"""One row's INSERT or UPDATE, as `Model.save()` writes it, for the inbound hot path.

`save()` compiles its statement again for every row (per-field SQL, placeholders,
RETURNING): for the worker of the inbound pipeline that was a third of the CPU of a
new customer's message (docs/performance.md, "Inbound pipeline"). These build each
statement once per model (and set of fields) and then only prepare the values, with
the fields' own `pre_save` and `get_db_prep_save`, so a row is written exactly as
`save()` would write it.

They send no `pre_save`/`post_save` signal: use them only for models that have no
receivers (tests/test_rowsql.py checks the ones used here) and no parent model.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model, signals


@cache
def _insert(model: type[Model], vendor: str) -> tuple[str, list[Field[Any, Any]]]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not getattr(f, "db_returning", False)]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(str(meta.pk.column))}"
    )
    return sql, fields


@cache
def _update(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, list[Field[Any, Any]]]:
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)  # type: ignore[union-attr]
    sql = f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(str(meta.pk.column))} = %s"  # noqa: S608
    return sql, fields  # type: ignore[return-value]


def _check(model: type[Model]) -> None:
    if model._meta.parents or signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        raise TypeError(f"{model.__name__} has parents or save signals: use save()")


def insert(row: Model) -> None:
    """`row.save(force_insert=True)`, its statement compiled once per model."""
    model = type(row)
    _check(model)
    sql, fields = _insert(model, connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    assert found is not None
    row.pk = found[0]
    row._state.adding = False
    row._state.db = connection.alias


def update(row: Model, names: list[str]) -> None:
    """`row.save(update_fields=names)`, its statement compiled once per model and fields."""
    model = type(row)
    _check(model)
    sql, fields = _update(model, tuple(dict.fromkeys(names)), connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(row, False), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, row.pk])
