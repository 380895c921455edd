"""The ceiling: the least a Python server can do to show a thread page.

Starlette + asyncpg (or aiosqlite) + Jinja2, one raw SQL query for the thread and its first
20 posts with their authors, one template with the same author panel. Served by the same
server with the same settings as Candor, so Candor's cost can be quoted as a ratio to it.
Run: `uvicorn bench.ceiling:app` with CEILING_DATABASE_URL set.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

TEMPLATE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/candor.css"></head><body><main>
<h1>{{ title }}</h1>
{% for p in posts %}
<article class="post" id="p{{ p.id }}">
  <aside class="author-panel"><a href="/u/{{ p.username }}">{{ p.username }}</a>
    <dl><dt>Rank</dt><dd>{{ p.rank }}</dd><dt>Points</dt><dd>{{ p.points }}</dd>
    <dt>Total posts</dt><dd>{{ p.post_count }}</dd><dt>Joined</dt><dd>{{ p.joined_at.strftime("%d %b %Y") }}</dd>
    <dt>Location</dt><dd>{{ p.location }}</dd></dl></aside>
  <div class="post-main"><p>Posted {{ p.created_at.strftime("%d %b %Y, %H:%M") }}</p>
  <div class="post-body">{{ p.body_html|safe }}</div></div>
</article>
{% endfor %}
</main></body></html>""")

RANKS = [
    (1500, "Director"),
    (500, "Senior Executive"),
    (150, "Executive"),
    (50, "Associate"),
    (0, "Newcomer"),
]
SQL = """SELECT p.id, p.body_html, p.created_at, u.username, u.points, u.post_count, u.joined_at, u.location
FROM posts p JOIN users u ON u.id = p.author_id WHERE p.thread_id = {ph} ORDER BY p.id LIMIT 20"""


def rank(points: int) -> str:
    return next(name for floor, name in RANKS if points >= floor)


class Store:
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def thread(self, thread_id: int) -> tuple[str, list[dict[str, Any]]] | None: ...


class PgStore(Store):
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.dsn, min_size=2, max_size=10)

    async def close(self) -> None:
        await self.pool.close()

    async def thread(self, thread_id: int) -> tuple[str, list[dict[str, Any]]] | None:
        async with self.pool.acquire() as conn:
            title = await conn.fetchval("SELECT title FROM threads WHERE id = $1", thread_id)
            if title is None:
                return None
            rows = await conn.fetch(SQL.format(ph="$1"), thread_id)
        return title, [dict(r) for r in rows]


class SqliteStore(Store):
    def __init__(self, path: str) -> None:
        self.path = path

    async def open(self) -> None:
        import aiosqlite

        self.conn = await aiosqlite.connect(self.path)
        self.conn.row_factory = aiosqlite.Row

    async def close(self) -> None:
        await self.conn.close()

    async def thread(self, thread_id: int) -> tuple[str, list[dict[str, Any]]] | None:
        from datetime import datetime

        async with self.conn.execute("SELECT title FROM threads WHERE id = ?", (thread_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        async with self.conn.execute(SQL.format(ph="?"), (thread_id,)) as cur:
            rows = [dict(r) for r in await cur.fetchall()]
        for r in rows:
            r["created_at"] = datetime.fromisoformat(r["created_at"])
            r["joined_at"] = datetime.fromisoformat(r["joined_at"])
        return row[0], rows


def make_store(url: str) -> Store:
    if url.startswith("sqlite"):
        return SqliteStore(url.split(":///", 1)[1])
    return PgStore(url.replace("postgresql+asyncpg://", "postgresql://"))


async def thread_page(request: Request) -> HTMLResponse:
    found = await request.app.state.store.thread(request.path_params["thread_id"])
    if found is None:
        return HTMLResponse("not found", status_code=404)
    title, posts = found
    for p in posts:
        p["rank"] = rank(p["points"])
    return HTMLResponse(TEMPLATE.render(title=title, posts=posts))


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.store = make_store(os.environ["CEILING_DATABASE_URL"])
    await app.state.store.open()
    yield
    await app.state.store.close()


app = Starlette(routes=[Route("/t/{thread_id:int}", thread_page)], lifespan=lifespan)
