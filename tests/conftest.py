"""Test harness: every data test runs on SQLite and on PostgreSQL.

The schema comes from `alembic upgrade head` into one template database per engine per run.
Each test runs inside a transaction that is rolled back (sessions join it with savepoints);
tests that need real commits (concurrency) get a fresh copy of the template.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from forum.app import create_app, wire
from forum.cli import upgrade_database
from forum.core.db import Database, connect, create_engine, make_sessionmaker
from forum.core.settings import Settings

PG_HOST = os.environ.get("CANDOR_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CANDOR_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("CANDOR_TEST_PG_USER", "postgres")
PG_ADMIN_DSN = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres"
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"

BACKENDS = ["sqlite", "postgresql"]
if os.environ.get("CANDOR_TEST_SKIP_PG") == "1":
    BACKENDS = ["sqlite"]


def pg_url(name: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


async def pg_admin_async(*statements: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def run_in_thread(coro_fn, *args):  # type: ignore[no-untyped-def]
    """asyncio.run() on a thread of its own, so it works whatever loop this thread runs."""
    result: list[object] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro_fn(*args)))
        except BaseException as exc:  # re-raised on the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0] if result else None


def _pg_admin(*statements: str) -> None:
    run_in_thread(pg_admin_async, *statements)


# Domains subscribe to each other's events at start-up; tests that call services directly
# (without an app) need the same wiring.
wire()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser journeys last, and as one group: they hold a Playwright event loop on the main
    thread until their package's fixtures close it, so no asyncio test may run among them.
    `make test` runs two workers (`pytest -n 2 --dist loadgroup`): xdist hands out its largest
    units first, one to each worker, so the group starts at once on one worker, which runs it
    whole against one live server while the other takes the rest. (tryfirst: xdist reads the
    group marker in this same hook.)"""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.xdist_group("e2e"))
    items.sort(key=lambda item: "/e2e/" in str(item.fspath))


def make_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "secret_key": "test-secret-key",
        "argon2_time_cost": 1,
        "argon2_memory_cost": 1024,
        "base_url": "http://testserver",
        # Per-process caches off: tests roll back and reuse ids; tests/board/test_query_counts.py turns them on.
        "cache_seconds": 0,
        # Tests of other features post as fresh accounts and read the post at once, with no
        # worker running; tests/board/test_checking.py turns the wait for the check on.
        "hide_new_accounts_posts_until_checked": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class TemplateDB:
    """One migrated database per engine, and cheap copies of it for tests that commit."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self.copies: list[str] = []
        if backend == "sqlite":
            self.path = tmp / "template.db"
            self.url = f"sqlite+aiosqlite:///{self.path}"
        else:
            self.name = f"candor_test_{RUN_ID}"
            self.url = pg_url(self.name)

    def create(self) -> None:
        if self.backend == "postgresql":
            try:
                _pg_admin(f'CREATE DATABASE "{self.name}"')
            except (OSError, asyncpg.PostgresError) as exc:
                pytest.exit(
                    f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} ({exc}). Start it "
                    "(see README) or set CANDOR_TEST_SKIP_PG=1 to run the SQLite half only.",
                    returncode=3,
                )
        upgrade_database(self.url)

    def copy(self) -> str:
        """A fresh database with the migrated schema, for a test that really commits."""
        if self.backend == "sqlite":
            target = self.tmp / f"copy_{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(self.path, target)
            return f"sqlite+aiosqlite:///{target}"
        name = f"{self.name}_{uuid.uuid4().hex[:8]}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        self.copies.append(name)
        return pg_url(name)

    def drop(self) -> None:
        if self.backend == "postgresql":
            statements = [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in self.copies]
            statements.append(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            _pg_admin(*statements)


@pytest.fixture(scope="session", params=BACKENDS)
def template_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TemplateDB]:
    template = TemplateDB(request.param, tmp_path_factory.mktemp(request.param))
    template.create()
    yield template
    template.drop()


@pytest.fixture
def backend(template_db: TemplateDB) -> str:
    return template_db.backend


@pytest.fixture
def settings(template_db: TemplateDB) -> Settings:
    return make_settings(template_db.url, posts_max_per_minute=1000, posts_max_per_minute_ip=1000)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.active = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if self.active and not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK)", statement):
            self.statements.append(statement)

    def start(self) -> None:
        self.statements.clear()
        self.active = True

    def stop(self) -> int:
        self.active = False
        return len(self.statements)


@pytest.fixture
async def database(template_db: TemplateDB) -> AsyncIterator[Database]:
    """The template database, inside a transaction rolled back after the test."""
    engine = create_engine(template_db.url, poolclass=NullPool)
    connection = await engine.connect()
    transaction = await connection.begin()
    sessionmaker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    try:
        yield Database(engine=engine, sessionmaker=sessionmaker)
    finally:
        await transaction.rollback()
        await connection.close()
        await engine.dispose()


@pytest.fixture
def queries(database: Database) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    event.listen(database.engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(database.engine.sync_engine, "before_cursor_execute", counter)


@pytest.fixture
async def db(database: Database) -> AsyncIterator[AsyncSession]:
    """A session for arranging data and checking results inside the test's transaction."""
    async with database.sessionmaker() as session:
        yield session


@pytest.fixture
def app(settings: Settings, database: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, database)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def fresh_url(template_db: TemplateDB) -> str:
    """A committed-to database of its own, for concurrency tests."""
    return template_db.copy()


@pytest.fixture
async def fresh_database(fresh_url: str) -> AsyncIterator[Database]:
    database = connect(fresh_url)
    try:
        yield database
    finally:
        await database.dispose()
