"""The hot-read fast path: prebuilt statements run on the driver's connection.

One entry point, `fetch_rows(conn, prepared, params)`, returns a list of the statement's
named rows (a NamedTuple whose fields are the statement's column labels, checked when the
statement is built). A statement becomes a hot read by wrapping it once at import time:

    PAGE = Prepared(select(Post.id.label("id"), ...), PostRow)
    rows = await fetch_rows(await session.connection(), PAGE, {"thread_id": 1})

SQLAlchemy still builds and compiles the statement, converts its parameters and column
values with the same type processors, and owns the connection and the transaction. What is
skipped is the per-execution machinery (cache key, execution context, result object,
greenlet hand-over): 0.17 ms per query on PostgreSQL, and on SQLite one call to aiosqlite's
thread instead of four (cursor, execute, fetch, close), or none when the loop thread's own
read-only connection can answer (forum.core.sqlite).

It applies only to read-only requests (forum.core.db.begin_read) on asyncpg and aiosqlite.
Anywhere else, or when switched off (`CANDOR_FAST_READS=0`, `connect(fast_reads=False)`),
the same statement runs through SQLAlchemy as usual and returns the same named rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from forum.core.db import FAST_READS
from forum.core.sqlite import READ_ONLY, CandorSQLiteDialect

RowT = TypeVar("RowT", bound=tuple[Any, ...])


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]  # values the statement carries itself (literals, offsets)
    binds: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, its processor)


class Prepared(Generic[RowT]):
    """A hot read statement and the named row it returns, compiled once per dialect."""

    def __init__(self, statement: Select[Any], row: type[RowT]) -> None:
        labels = tuple(column.key for column in statement.selected_columns)
        fields: tuple[str, ...] = getattr(row, "_fields", ())
        if labels != fields:
            raise ValueError(f"{row.__name__} has fields {fields}, the statement {labels}")
        self.statement = statement
        self.row = row
        self._make: Callable[[Any], RowT] = cast(Any, row)._make
        self._compiled: dict[type[Dialect], _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(type(dialect))
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            names = tuple(compiled.positiontup or ())
            binds = tuple(
                compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in names
            )
            processors = (
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            )
            results = tuple((i, p) for i, p in enumerate(processors) if p is not None)
            found = self._compiled[type(dialect)] = _Compiled(
                compiled.string, names, compiled.params, binds, results
            )
        return found


def fast_path(conn: AsyncConnection) -> bool:
    """Whether `conn` serves a read-only request with the fast path switched on."""
    sync = conn.sync_connection
    if sync is None:
        return False
    options = sync.get_execution_options()
    return bool(options.get(READ_ONLY)) and options.get(FAST_READS, True) is not False


async def fetch_rows(
    conn: AsyncConnection, prepared: Prepared[RowT], params: Mapping[str, Any]
) -> list[RowT]:
    """The rows of `prepared` as its named rows. Outside a read-only request, on another
    driver, or with the fast path off, it runs through SQLAlchemy as usual; so does a query
    the driver refused, so errors reach callers as SQLAlchemy's exceptions and a dead
    connection is invalidated as usual."""
    make = prepared._make
    dialect = conn.dialect
    driver = dialect.driver
    if driver not in ("asyncpg", "aiosqlite") or not fast_path(conn):
        return [make(row) for row in await conn.execute(prepared.statement, params)]
    compiled = prepared.compiled(dialect)
    args = [
        value if bind is None else bind(value)
        for value, bind in zip(
            (params[n] if n in params else compiled.defaults[n] for n in compiled.names),
            compiled.binds,
            strict=True,
        )
    ]
    rows: Any = None
    if isinstance(dialect, CandorSQLiteDialect):
        reader = dialect.inline_reader(conn.engine.url.database)
        if reader is not None:
            try:
                rows = reader.execute(compiled.sql, args).fetchall()
            except sqlite3.Error:  # busy, or anything else: the usual way below decides
                rows = None
    if rows is None:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        try:
            if driver == "asyncpg":
                rows = await raw.fetch(compiled.sql, *args)
            else:
                rows = await raw.execute_fetchall(compiled.sql, args)
        except Exception:
            return [make(row) for row in await conn.execute(prepared.statement, params)]
    results = compiled.results
    if not results:
        return [make(row) for row in rows]
    converted = []
    for row in rows:
        values = list(row)
        for i, process in results:
            values[i] = process(values[i])
        converted.append(make(values))
    return converted
