"""Portable SQL pieces for report queries (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import FloatField, Func, QuerySet
from django.db.models.sql.compiler import SQLCompiler


class Epoch(Func):
    """Seconds since 1970 (UTC) of a datetime column, as a float; NULL stays NULL.

    Reports fetch tens of thousands of timestamps: plain floats cost far less to
    transfer and convert than datetimes (SQLite returns text Django must parse).
    On SQLite the value is rounded to the millisecond: julianday's double carries
    about 0.1 ms of error, enough to move 30:00.000 into the next bucket.
    """

    arity = 1
    output_field = FloatField()

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        template = "ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra)


def raw_rows(qs: QuerySet[Any, Any], chunk: int = 5000) -> Iterator[tuple[Any, ...]]:
    """The rows of a `values_list` queryset as the database driver returns them.

    Skips Django's per-value converters, which cost more than the query itself for
    the tens of thousands of plain numbers a report reads. Only for columns whose
    raw values are already what the caller wants: ids, text, Epoch floats and
    booleans (0/1 on SQLite, which callers only test for truth).
    """
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(chunk):
            yield from batch
