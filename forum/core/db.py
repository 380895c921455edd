"""Engine, sessions, the declarative base and the request transaction modes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import CursorResult, Dialect, Result, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from forum.core.sqlite import (
    READ_ONLY,
    CandorSQLiteDialect,
    configure_sqlite,
    parse_sqlite_utc,
    sqlite_file,
)
from forum.core.writers import WriterQueue

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (SQLAlchemy types `execute` as a plain Result)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


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
            return parse_sqlite_utc
        return super().result_processor(dialect, coltype)


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
        (forum.core.writers). PostgreSQL locks rows, not the database: nothing to queue."""
        if self.engine.dialect.name != "sqlite":
            return nullcontext()
        if self._writers is None:
            path = sqlite_file(self.engine.url.database)
            self._writers = WriterQueue(f"{path}-writers" if path else None)
        return self._writers.turn()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session for a write transaction, begun as a writer in its turn."""
        async with self.write_turn(), self.sessionmaker() as session:
            await begin_write(session)
            yield session


def create_engine(url: str, sqlite_foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An engine for `url`. Pools hold `pool_size` connections (10) and open no overflow ones
    by default: an overflow connection is closed as soon as it is returned, so under a burst
    every request beyond the pool would open and close its own (a PostgreSQL backend fork,
    or on SQLite a new thread and its PRAGMAs): at 64 clients that cost 15-20% more CPU per
    page than waiting a moment for a pooled connection (docs/performance.md)."""
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
        configure_sqlite(engine, sqlite_foreign_keys)
        return engine
    # No pre-ping: it costs a round trip on every request. A connection that died with the
    # server fails once (a 503 page) and is replaced; pool_recycle retires idle ones.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


def make_sessionmaker(bind: Any, **kwargs: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, **kwargs)


# Execution option that turns the hot-read fast path off (forum.core.fastpath).
FAST_READS = "candor_fast_reads"


def connect(url: str, fast_reads: bool = True, **engine_options: Any) -> Database:
    engine = create_engine(url, **engine_options)
    if not fast_reads:
        engine.sync_engine.update_execution_options(**{FAST_READS: False})
    return Database(engine=engine, sessionmaker=make_sessionmaker(engine))


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
