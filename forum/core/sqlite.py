"""SQLite as Candor runs it: a dialect that skips empty COMMITs, per-thread read-only
connections for hot reads, the connection PRAGMAs, and UTC datetimes parsed in one step."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# Execution option of a connection serving a read-only request (see forum.core.db.begin_read).
READ_ONLY = "candor_read_only"


def parse_sqlite_utc(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text written elsewhere, with an offset of its own
        parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # a date alone: Python drops the appended offset
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def sqlite_file(path: str | None) -> str | None:
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
        path = sqlite_file(path)
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


def configure_sqlite(engine: AsyncEngine, foreign_keys: bool = True) -> None:
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
