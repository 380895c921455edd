"""Search finds its candidates newest first, in windows on PostgreSQL and with a limit on
FTS5, and ranks them: the order must be relevance over every match when the matches are fewer
than the cap, and relevance over the newest matches when they are more."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.settings import Settings
from forum.search import service
from forum.search.service import Filters, search
from tests.helpers import make_category, make_thread, make_user

# Bodies with the word once, twice or four times, and titles with or without it.
SHAPES = [
    ("Walnut plans", "walnut"),
    ("Plain title", "walnut walnut walnut walnut in a short post"),
    ("Plain title", "a longer post that says walnut once among many other words here"),
    ("Walnut walnut", "walnut walnut"),
    ("Plain title", "walnut twice: walnut"),
    ("Other", "nothing to find"),
]


async def walnut_board(db: AsyncSession, settings: Settings) -> None:
    author = await make_user(db, settings)
    category = await make_category(db)
    for i in range(4):
        for title, body in SHAPES:
            await make_thread(db, settings, author, category, title=f"{title} {i}", body=body)
    await db.commit()


async def expected_order(db: AsyncSession, backend: str, limit: int | None = None) -> list[int]:
    """Relevance over the newest `limit` matches (all when None), by each engine's own
    measure, computed here in one plain query."""
    if backend == "postgresql":
        sql = (
            "SELECT p.id FROM posts p JOIN threads t ON t.id = p.thread_id, "
            "websearch_to_tsquery('english', 'walnut') q "
            "WHERE p.id IN (SELECT id FROM (SELECT p2.id FROM posts p2 LEFT JOIN threads t2 "
            "ON t2.first_post_id = p2.id WHERE p2.search_vector @@ q OR t2.title_vector @@ q "
            "ORDER BY p2.id DESC LIMIT :n) c) "
            "ORDER BY ts_rank(setweight(CASE WHEN p.id = t.first_post_id THEN t.title_vector "
            "ELSE ''::tsvector END, 'A') || setweight(p.search_vector, 'B'), q) DESC, "
            "p.created_at DESC, p.id DESC"
        )
    else:
        sql = (
            "SELECT c.id FROM (SELECT rowid AS id, bm25(posts_fts, 10.0, 1.0) AS r FROM posts_fts "
            "WHERE posts_fts MATCH 'walnut' ORDER BY rowid DESC LIMIT :n) c "
            "JOIN posts p ON p.id = c.id ORDER BY c.r, p.created_at DESC, p.id DESC"
        )
    return list((await db.execute(text(sql), {"n": limit or 1_000_000})).scalars())


async def found(db: AsyncSession) -> list[int]:
    hits, total = await search(db, "walnut", Filters(), None, 1, per_page=100)
    assert total == len(hits)
    return [h.id for h in hits]


@pytest.mark.parametrize("windows", ["one", "many"])
async def test_results_are_in_relevance_order_over_every_match(
    backend: str, db: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch,
    windows: str,
) -> None:  # fmt: skip
    await walnut_board(db, settings)
    if windows == "many":  # a bucket per post id and a first window of one: many windows
        monkeypatch.setattr(service, "BUCKET", 1)
        monkeypatch.setattr(service, "FIRST_WINDOW", 1)
    want = await expected_order(db, backend)
    assert len(want) == 20
    got = await found(db)
    assert got == want
    # Title matches first: every opening post with "Walnut" in its title leads.
    titled = await db.execute(text("SELECT first_post_id FROM threads WHERE title LIKE 'Walnut%'"))
    assert set(got[:8]) == set(titled.scalars())


async def test_only_the_newest_matches_are_ranked_when_there_are_more(
    backend: str, db: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await walnut_board(db, settings)
    monkeypatch.setattr(service, "CANDIDATES", 7)
    monkeypatch.setattr(service, "BUCKET", 1)
    monkeypatch.setattr(service, "FIRST_WINDOW", 2)
    want = await expected_order(db, backend, limit=7)
    got = await found(db)
    assert got == want and len(got) == 7
    every = await expected_order(db, backend)
    assert sorted(got) == sorted(every)[-7:]  # the newest seven matches, ranked
