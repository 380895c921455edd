"""The hot pages' fast reads (`forum.core.db.fetch_rows`) against SQLAlchemy's own execution.

Most tests run inside a rolled-back transaction, where `fetch_rows` takes SQLAlchemy's path;
these use a committed-to database of their own, as a served forum does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import httpx
import pytest
from sqlalchemy import event, inspect, literal_column, select, table
from sqlalchemy.exc import DBAPIError

from forum.accounts.models import User
from forum.accounts.services import start_session, user_for_session
from forum.app import create_app
from forum.board.models import Post
from forum.board.queries import listing_statements, thread_page, thread_page_statements
from forum.core.db import Database, begin_read, begin_write, connect, utcnow
from forum.core.fastpath import Prepared, fetch_rows
from forum.core.sqlite import CandorSQLiteDialect
from forum.related.models import RelatedItem
from forum.related.queries import related_statement
from tests.conftest import QueryCounter, make_settings, pg_admin_async
from tests.helpers import make_category, make_thread, make_user


@pytest.fixture
def fresh_queries(fresh_database: Database) -> Iterator[QueryCounter]:
    """Statements that go through SQLAlchemy's cursor (the fast path does not)."""
    counter = QueryCounter()
    event.listen(fresh_database.engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(fresh_database.engine.sync_engine, "before_cursor_execute", counter)


async def _arrange(database: Database, url: str) -> dict[str, int]:
    settings = make_settings(url)
    async with database.sessionmaker() as s:
        author = await make_user(s, settings, location="Cardiff")
        reader = await make_user(s, settings)
        category = await make_category(s)
        thread, posts = await make_thread(s, settings, author, category, replies=4)
        other, _ = await make_thread(s, settings, author, category, title="Another pairing")
        edited = await s.get(Post, posts[1].id)
        assert edited is not None
        edited.edited_at = utcnow() - timedelta(minutes=3)
        held = await s.get(Post, posts[2].id)
        assert held is not None
        held.moderation_state = "held"
        s.add(RelatedItem(source_type="thread", source_id=thread.id, target_type="thread",
                          target_id=other.id, position=0, score=0.9))  # fmt: skip
        await s.commit()
        return {"thread": thread.id, "category": category.id, "reader": reader.id}


def _cases(ids: dict[str, int]) -> list[tuple[str, Prepared[Any], dict[str, object], int]]:
    # reactor_id: whose own reactions the page marks (0 for visitors).
    page = {"thread_id": ids["thread"], "limit": 20, "offset": 0, "reactor_id": 0}
    return [
        ("anonymous page", thread_page_statements("anonymous")[1], page, 4),  # held post hidden
        ("member page", thread_page_statements("member")[1],
         {**page, "viewer_id": ids["reader"]}, 4),
        ("staff page", thread_page_statements("staff")[1], page, 5),
        ("related", related_statement(False), {"source_type": "thread", "source_id": ids["thread"],
                                               "thread_limit": 5, "article_limit": 3}, 1),
        ("listing", listing_statements("anonymous")[1], {"category_id": ids["category"], "limit": 20, "offset": 0}, 2),
    ]  # fmt: skip


async def _rows(
    database: Database, prepared: Prepared[Any], params: dict[str, object]
) -> list[Any]:
    async with database.sessionmaker() as s:
        await begin_read(s)
        return await fetch_rows(await s.connection(), prepared, params)


async def test_fast_reads_return_what_the_ordinary_path_returns(
    fresh_url: str, fresh_database: Database, fresh_queries: QueryCounter
) -> None:
    """The same named rows, with the same conversions, whether the fast path is on or off."""
    ids = await _arrange(fresh_database, fresh_url)
    ordinary = connect(fresh_url, fast_reads=False)
    try:
        for name, prepared, params, expected in _cases(ids):
            fresh_queries.start()
            fast = await _rows(fresh_database, prepared, params)
            assert fresh_queries.stop() == 0, f"{name}: the fast path went through SQLAlchemy"
            slow = await _rows(ordinary, prepared, params)
            assert fast == slow and len(fast) == expected, name
            assert all(type(row) is prepared.row for row in fast + slow), name
            for row in fast:  # the same type conversions: aware datetimes, real booleans
                for value in row:
                    if isinstance(value, datetime):
                        assert value.tzinfo is not None, name
            if name.endswith("page"):
                assert all(type(row.post_is_deleted) is bool for row in fast), name
                assert any(row.post_edited_at is not None for row in fast), name
    finally:
        await ordinary.dispose()


async def test_switched_off_the_thread_page_goes_through_sqlalchemy_with_the_same_result(
    fresh_url: str, fresh_database: Database
) -> None:
    ids = await _arrange(fresh_database, fresh_url)
    ordinary = connect(fresh_url, fast_reads=False)
    counter = QueryCounter()
    event.listen(ordinary.engine.sync_engine, "before_cursor_execute", counter)
    try:
        pages = []
        for database in (fresh_database, ordinary):
            async with database.sessionmaker() as s:
                await begin_read(s)
                counter.start()
                pages.append(await thread_page(s, ids["thread"], None, 1, 20))
                counter.stop()
        assert pages[0] == pages[1] and pages[0] is not None
        assert len(counter.statements) == 1  # the page query, through SQLAlchemy's cursor
    finally:
        event.remove(ordinary.engine.sync_engine, "before_cursor_execute", counter)
        await ordinary.dispose()


def test_a_named_row_must_match_its_statement() -> None:
    class Wrong(NamedTuple):
        other: int

    with pytest.raises(ValueError, match="fields"):
        Prepared(select(literal_column("1").label("one")), Wrong)


async def test_inside_a_write_transaction_reads_go_through_sqlalchemy(
    fresh_url: str, fresh_database: Database, fresh_queries: QueryCounter
) -> None:
    """A request that writes reads inside its transaction, through SQLAlchemy, and sees its
    own uncommitted writes."""
    ids = await _arrange(fresh_database, fresh_url)
    _name, prepared, params, _n = _cases(ids)[2]
    async with fresh_database.sessionmaker() as s:
        await begin_write(s)
        first = (await fetch_rows(await s.connection(), prepared, params))[0].post_id
        post = await s.get(Post, first)
        assert post is not None
        post.is_deleted = True
        await s.flush()
        fresh_queries.start()
        rows = await fetch_rows(await s.connection(), prepared, params)
        assert fresh_queries.stop() == 1
        assert first not in [r.post_id for r in rows] and len(rows) == 4
        await s.rollback()


async def test_a_refused_fast_read_raises_sqlalchemys_error(fresh_database: Database) -> None:
    class X(NamedTuple):
        x: object

    broken = Prepared(select(literal_column("x")).select_from(table("no_such_table")), X)
    async with fresh_database.sessionmaker() as s:
        await begin_read(s)
        with pytest.raises(DBAPIError):
            await fetch_rows(await s.connection(), broken, {})


async def test_sqlite_hot_reads_run_on_a_read_only_connection_that_never_waits(
    backend: str, fresh_url: str, fresh_database: Database
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL reads go through asyncpg")
    ids = await _arrange(fresh_database, fresh_url)
    name, prepared, params, expected = _cases(ids)[0]
    dialect = fresh_database.engine.dialect
    assert isinstance(dialect, CandorSQLiteDialect)
    reader = dialect.inline_reader(fresh_database.engine.url.database)
    assert reader is not None
    assert reader.execute("PRAGMA busy_timeout").fetchone() == (0,)  # never blocks the loop
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.execute("DELETE FROM posts")
    seen: list[str] = []
    reader.set_trace_callback(seen.append)
    async with fresh_database.sessionmaker() as s:
        await begin_read(s)
        rows = await fetch_rows(await s.connection(), prepared, params)
    assert len(rows) == expected and len(seen) == 1, name


async def test_a_busy_sqlite_read_goes_through_aiosqlite_instead(
    backend: str, fresh_url: str, fresh_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's inline reads")
    ids = await _arrange(fresh_database, fresh_url)
    name, prepared, params, expected = _cases(ids)[0]

    class Busy:
        def execute(self, *_args: object) -> None:
            raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(CandorSQLiteDialect, "inline_reader", lambda self, path: Busy())
    async with fresh_database.sessionmaker() as s:
        await begin_read(s)
        conn = await s.connection()
        raw = (await conn.get_raw_connection()).driver_connection
        calls: list[str] = []
        real = raw.execute_fetchall

        async def counted(sql: str, args: object) -> object:
            calls.append(sql)
            return await real(sql, args)

        monkeypatch.setattr(raw, "execute_fetchall", counted)
        rows = await fetch_rows(conn, prepared, params)
    assert len(rows) == expected and len(calls) == 1, name


async def test_a_connection_killed_under_a_fast_read_is_replaced(
    backend: str, fresh_url: str, fresh_database: Database
) -> None:
    """The fast path's driver error goes back through SQLAlchemy, which sees the disconnect
    and drops the connection: one 503 page, then the forum reads again."""
    if backend != "postgresql":
        pytest.skip("killing a server connection is PostgreSQL's failure")
    ids = await _arrange(fresh_database, fresh_url)
    app = create_app(make_settings(fresh_url), fresh_database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get(f"/t/{ids['thread']}")).status_code == 200
        name = fresh_url.rsplit("/", 1)[1]
        await pg_admin_async(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        refused = await client.get(f"/t/{ids['thread']}")
        assert refused.status_code == 503
        again = await client.get(f"/t/{ids['thread']}")
        assert again.status_code == 200 and "Another pairing" in again.text


async def test_a_signed_in_reader_is_loaded_on_the_fast_path(
    fresh_url: str, fresh_database: Database, fresh_queries: QueryCounter
) -> None:
    """A read-only request builds the member from one fast row; the User it gets is the one
    the ORM would load (every column), already persistent, with nothing to flush."""
    settings = make_settings(fresh_url)
    async with fresh_database.sessionmaker() as s:
        member = await make_user(s, settings, location="Bristol")
        token = await start_session(s, member, days=1)
        await s.commit()
    async with fresh_database.sessionmaker() as s:
        expected = await user_for_session(s, token)  # a writing session: the ORM loads it
        assert expected is not None
        columns = [attr.key for attr in inspect(User).column_attrs]
        wanted = {key: getattr(expected, key) for key in columns}
    fresh_queries.start()
    async with fresh_database.sessionmaker() as s:
        await begin_read(s)
        user = await user_for_session(s, token)
        assert user is not None and fresh_queries.stop() == 0
        assert {key: getattr(user, key) for key in columns} == wanted
        assert inspect(user).persistent and not s.dirty
        fresh_queries.start()
        assert await s.get(User, member.id) is user  # in the identity map: no second load
        await s.commit()
        assert fresh_queries.stop() == 0  # no load, and nothing was flushed
        assert await user_for_session(s, "not-a-token") is None
