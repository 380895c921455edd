"""Engine, session factory and the declarative base shared by every domain's models."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Select, event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from forum.writers import WriterQueue

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on both engines (SQLite stores naive text, so reattach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        # SQLite hands back the text it stored ("2026-11-23 10:00:00.123456", UTC, see
        # process_bind_param). Parsed with the offset appended it comes out aware in one step:
        # SQLAlchemy's parser followed by datetime.replace(tzinfo=...) costs 0.8 us a value
        # against 0.1 us, and a thread page reads some sixty of them.
        if dialect.name == "sqlite":
            return _sqlite_utc
        return super().result_processor(dialect, coltype)


def _sqlite_utc(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text written elsewhere, with an offset of its own
        parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # a date alone: Python drops the appended offset
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    _writers: WriterQueue | None = field(default=None, repr=False)

    async def dispose(self) -> None:
        if self._writers is not None:
            self._writers.close()
        if isinstance(self.engine.dialect, CandorSQLiteDialect):
            self.engine.dialect.close_readers()
        await self.engine.dispose()

    def write_turn(self) -> AbstractAsyncContextManager[Any]:
        """Held around a write transaction: on SQLite, writers take turns in arrival order
        (forum.writers). PostgreSQL locks rows, not the database: nothing to queue."""
        if self.engine.dialect.name != "sqlite":
            return nullcontext()
        if self._writers is None:
            path = _sqlite_file(self.engine.url.database)
            self._writers = WriterQueue(f"{path}-writers" if path else None)
        return self._writers.turn()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session for a write transaction, begun as a writer in its turn."""
        async with self.write_turn(), self.sessionmaker() as session:
            await begin_write(session)
            yield session


def _sqlite_file(path: str | None) -> str | None:
    """The database file's path, or None for an in-memory or URI-named database (whose file
    other connections could not simply open)."""
    if path in (None, "", ":memory:") or path.startswith("file:"):
        return None
    return path


def _in_transaction(dbapi_connection: Any) -> bool:
    try:
        return bool(dbapi_connection.driver_connection.in_transaction)
    except ValueError:  # aiosqlite's connection is closed: let SQLAlchemy handle it
        return True


class CandorSQLiteDialect(SQLiteDialect_aiosqlite):
    """SQLAlchemy's aiosqlite dialect, except that a COMMIT or ROLLBACK with no transaction
    open is skipped: SQLite would do nothing, but every call is a round trip to aiosqlite's
    thread. Read-only requests run without a transaction (see `begin_read`), so each used to
    pay two such trips for nothing (the commit, then the pool's reset on return)."""

    supports_statement_cache = True

    def do_commit(self, dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            super().do_commit(dbapi_connection)

    def do_rollback(self, dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            super().do_rollback(dbapi_connection)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._readers: dict[int, sqlite3.Connection] = {}

    def inline_reader(self, path: str | None) -> sqlite3.Connection | None:
        """A connection of this thread's own that `fetch_rows` runs hot reads on directly,
        without a hop to aiosqlite's thread (13% of a thread page's CPU at 64 clients).
        It only reads (query_only) and never waits for a lock (busy_timeout 0): a read that
        finds the database busy goes the usual way, so the event loop is never held up by
        SQLite's locking, only by the statement's own work (an indexed page of 20 rows)."""
        path = _sqlite_file(path)
        if path is None:
            return None
        thread = threading.get_ident()
        reader = self._readers.get(thread)
        if reader is None:
            try:
                reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                reader.execute("PRAGMA query_only=ON")
                reader.execute("PRAGMA busy_timeout=0")
            except sqlite3.Error:
                return None
            self._readers[thread] = reader
        return reader

    def close_readers(self) -> None:
        readers, self._readers = self._readers, {}
        for reader in readers.values():
            reader.close()


registry.register("sqlite.candor_aiosqlite", __name__, "CandorSQLiteDialect")


def _configure_sqlite(engine: AsyncEngine, foreign_keys: bool = True) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions start (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Off only for migrations: SQLite's batch mode rebuilds tables that others reference.
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A transaction that will write takes the write lock up front: a deferred transaction
        # that read first and writes later fails at once with SQLITE_BUSY under concurrency
        # instead of waiting on busy_timeout.
        options = conn.get_execution_options()
        if options.get(READ_ONLY):
            return  # each statement is its own transaction, as on PostgreSQL (begin_read)
        if options.get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def create_engine(url: str, sqlite_foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An engine for `url`. Pools hold `pool_size` connections (10) and open no overflow ones
    by default: an overflow connection is closed as soon as it is returned, so under a burst
    every request beyond the pool would open and close its own (a PostgreSQL backend fork,
    or on SQLite a new thread and its PRAGMAs): at 64 clients that cost 15-20% more CPU per
    page than waiting a moment for a pooled connection (bench notes in the README)."""
    parsed = make_url(url)
    if "poolclass" not in kwargs and parsed.database not in (None, "", ":memory:"):
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 0)
    else:  # a pool of one kind or another that is not sized (NullPool, in-memory SQLite)
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
    if url.startswith("sqlite"):
        if parsed.drivername == "sqlite+aiosqlite":
            parsed = parsed.set(drivername="sqlite+candor_aiosqlite")
        engine = create_async_engine(parsed, **kwargs)
        _configure_sqlite(engine, sqlite_foreign_keys)
        return engine
    # No pre-ping: it costs a round trip on every request. A connection that died with the
    # server fails once (a 503 page) and is replaced; pool_recycle retires idle ones.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


def make_sessionmaker(bind: Any, **kwargs: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, **kwargs)


def connect(url: str, **engine_options: Any) -> Database:
    engine = create_engine(url, **engine_options)
    return Database(engine=engine, sessionmaker=make_sessionmaker(engine))


READ_ONLY = "candor_read_only"


async def begin_read(session: AsyncSession) -> None:
    """A request that only reads runs without a transaction: each statement sees what was
    committed when it ran. That skips BEGIN and COMMIT (two round trips on PostgreSQL, three
    calls to aiosqlite's thread on SQLite) and lets `fetch_rows` take its fast path."""
    bind = session.bind
    if not isinstance(bind, AsyncEngine) or session.in_transaction():
        return
    options: dict[str, Any] = {READ_ONLY: True}
    if bind.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    await session.connection(execution_options=options)


async def begin_write(session: AsyncSession) -> None:
    """Start the session's transaction as a writer (BEGIN IMMEDIATE on SQLite; no-op elsewhere)."""
    bind = session.bind
    if (
        isinstance(bind, AsyncEngine)
        and bind.dialect.name == "sqlite"
        and not session.in_transaction()
    ):
        await session.connection(execution_options={"sqlite_immediate": True})


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]  # values the statement carries itself (literals, offsets)
    binds: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, its processor)


class Prepared:
    """A hot read statement, compiled once per dialect, that `fetch_rows` can run on the
    driver's connection directly.

    SQLAlchemy still builds and compiles the statement, converts its parameters and column
    values with the same type processors, and owns the connection and the transaction. What
    is skipped is the per-execution machinery (cache key, execution context, result object,
    greenlet hand-over): 0.17 ms per query on PostgreSQL, and on SQLite one call to
    aiosqlite's thread instead of four (cursor, execute, fetch, close)."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
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


def reads_only(conn: AsyncConnection) -> bool:
    """Whether `conn` serves a read-only request (see `begin_read`)."""
    sync = conn.sync_connection
    return sync is not None and bool(sync.get_execution_options().get(READ_ONLY))


async def fetch_rows(
    conn: AsyncConnection, prepared: Prepared, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of `prepared` as tuples. Outside a read-only request (or on another driver)
    it runs through SQLAlchemy as usual; so does a query the driver refused, so errors reach
    callers as SQLAlchemy's exceptions and a dead connection is invalidated as usual."""
    dialect = conn.dialect
    driver = dialect.driver
    if not reads_only(conn) or driver not in ("asyncpg", "aiosqlite"):
        return list(await conn.execute(prepared.statement, params))
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
        raw = (await conn.get_raw_connection()).driver_connection
        try:
            if driver == "asyncpg":
                rows = await raw.fetch(compiled.sql, *args)
            else:
                rows = await raw.execute_fetchall(compiled.sql, args)
        except Exception:
            return list(await conn.execute(prepared.statement, params))
    results = compiled.results
    if not results:
        return [tuple(row) for row in rows]
    converted = []
    for row in rows:
        values = list(row)
        for i, process in results:
            values[i] = process(values[i])
        converted.append(tuple(values))
    return converted
