"""Portable SQL helpers for the two supported dialects (SQLite, PostgreSQL)."""

from __future__ import annotations

import calendar

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch_bucket(FunctionElement):
    """Seconds since the epoch of a naive-UTC datetime column, floored to a bucket size."""

    type = Integer()
    inherit_cache = True

    def __init__(self, column, seconds: int, offset: int = 0):
        self.seconds = int(seconds)
        self.offset = int(offset)  # seconds east of UTC: buckets start at local boundaries
        super().__init__(column)


@compiles(epoch_bucket, "sqlite")
def _epoch_bucket_sqlite(element, compiler, **kw):
    (col,) = list(element.clauses)
    s, o = element.seconds, element.offset
    sec = f"(CAST(strftime('%s', {compiler.process(col, **kw)}) AS INTEGER) + {o})"
    return f"(({sec} / {s}) * {s})"


@compiles(epoch_bucket, "postgresql")
def _epoch_bucket_pg(element, compiler, **kw):
    (col,) = list(element.clauses)
    s, o = element.seconds, element.offset
    sec = f"(extract(epoch from {compiler.process(col, **kw)}) + {o})"
    return f"(CAST(floor({sec} / {s}) AS BIGINT) * {s})"


class seconds_between(FunctionElement):
    """(end − start) in whole seconds, each time first cut to its second — the same integer as
    `py_seconds_between` gives in Python, so sums and buckets agree exactly."""

    type = Integer()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER))"


@compiles(seconds_between, "postgresql")
def _seconds_between_pg(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"(CAST(extract(epoch from date_trunc('second', {end})) AS BIGINT)"
        f" - CAST(extract(epoch from date_trunc('second', {start})) AS BIGINT))"
    )


def py_seconds_between(start, end) -> int:
    """seconds_between for naive-UTC datetimes in Python."""
    return calendar.timegm(end.timetuple()) - calendar.timegm(start.timetuple())
