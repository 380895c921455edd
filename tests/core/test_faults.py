"""Faults: a read-only database gives a clear error page, keeps serving reads, and is not
corrupted; a database that goes away gives a 503 and the next request recovers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from forum.app import create_app
from forum.core.db import connect
from tests.conftest import TemplateDB, make_settings
from tests.helpers import CSRF_RE, login, make_category, make_thread, make_user


async def test_read_only_sqlite_gives_a_clear_error_and_no_corruption(
    template_db: TemplateDB,
) -> None:
    if template_db.backend != "sqlite":
        pytest.skip("a read-only database file is SQLite's failure")
    url = template_db.copy()
    path = url.split(":///", 1)[1]
    settings = make_settings(url)
    database = connect(url)
    async with database.sessionmaker() as s:
        author = await make_user(s, settings, username="reader")
        thread, _ = await make_thread(s, settings, author, await make_category(s))
        await s.commit()
    await database.dispose()
    read_only = make_settings(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    ro_database = connect(read_only.database_url)
    app = create_app(read_only, ro_database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get(f"/t/{thread.id}")).status_code == 200  # reads still work
        await login_attempt(c)
    await ro_database.dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def login_attempt(client: httpx.AsyncClient) -> None:
    """Logging in writes (a session row): on a read-only database it must fail cleanly."""
    page = await client.get("/login")
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    r = await client.post(
        "/login",
        data={"username": "reader", "password": "correct horse battery", "csrftoken": token},
    )
    assert r.status_code == 503 and "not answering" in r.text


async def test_database_gone_gives_503_then_recovers(
    template_db: TemplateDB, tmp_path: Path
) -> None:
    url = template_db.copy()
    settings = make_settings(url)
    database = connect(url)
    async with database.sessionmaker() as s:
        await make_user(s, settings, username="survivor")
        await s.commit()
    app = create_app(settings, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/")).status_code == 200
        # The database goes away: every new connection fails.
        broken = connect(
            "postgresql+asyncpg://postgres@127.0.0.1:1/none" if template_db.backend == "postgresql"
            else f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
        )  # fmt: skip
        app.state.database = broken
        r = await c.get("/")
        assert r.status_code == 503 and r.headers.get("retry-after") == "5"
        assert "not answering" in r.text
        await broken.dispose()
        app.state.database = database  # back again
        assert (await c.get("/")).status_code == 200
        await login(c, "survivor")
    await database.dispose()
