"""Pages load what they need in a fixed number of queries (no N+1)."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.settings import Settings
from forum.related.models import RelatedItem
from tests.conftest import QueryCounter
from tests.helpers import make_category, make_thread, make_user


async def _count(client: httpx.AsyncClient, queries: QueryCounter, path: str) -> int:
    queries.start()
    response = await client.get(path)
    n = queries.stop()
    assert response.status_code == 200, path
    return n


async def test_thread_page_queries_do_not_grow_with_posts(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, queries: QueryCounter
) -> None:
    category = await make_category(db)
    authors = [await make_user(db, settings) for _ in range(5)]
    small, _ = await make_thread(db, settings, authors[0], category, replies=1)
    big, _ = await make_thread(db, settings, authors[0], category, replies=0)
    from forum.board.posting import create_reply

    for i in range(19):
        await create_reply(db, settings, authors[i % 5], big, f"reply {i}")
    await db.commit()
    n_small = await _count(client, queries, f"/t/{small.id}")
    n_big = await _count(client, queries, f"/t/{big.id}")
    assert n_small == n_big
    assert n_big <= 12


async def test_category_and_home_queries_do_not_grow_with_threads(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, queries: QueryCounter
) -> None:
    author = await make_user(db, settings)
    few = await make_category(db)
    many = await make_category(db)
    await make_thread(db, settings, author, few)
    for i in range(15):
        other = await make_user(db, settings)
        await make_thread(db, settings, other, many, title=f"Thread {i}")
    assert await _count(client, queries, f"/c/{few.slug}") == await _count(
        client, queries, f"/c/{many.slug}"
    )
    home_before = await _count(client, queries, "/")
    await make_category(db)
    assert await _count(client, queries, "/") == home_before


async def test_cached_tables_save_queries_on_the_thread_page(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    queries: QueryCounter,  # type: ignore[no-untyped-def]
) -> None:
    author = await make_user(db, settings)
    thread, _ = await make_thread(db, settings, author, await make_category(db), replies=3)
    uncached = await _count(client, queries, f"/t/{thread.id}")
    app.state.settings = settings.model_copy(update={"cache_seconds": 60})
    await _count(client, queries, f"/t/{thread.id}")  # fills the caches
    cached = await _count(client, queries, f"/t/{thread.id}")
    assert cached <= uncached - 2  # ranks and the category tree come from memory


async def test_anonymous_thread_page_is_two_queries_when_caches_are_warm(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    queries: QueryCounter,  # type: ignore[no-untyped-def]
) -> None:
    """The thread with its page of posts, their authors and the visible count; then the related
    threads and articles together: the hot page's round trips, counted."""
    author = await make_user(db, settings)
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, author, category, replies=3)
    other, _ = await make_thread(db, settings, author, category, title="Another pairing")
    db.add(RelatedItem(source_type="thread", source_id=thread.id, target_type="thread",
                       target_id=other.id, position=0, score=0.9))  # fmt: skip
    await db.commit()
    app.state.settings = settings.model_copy(update={"cache_seconds": 60})
    await _count(client, queries, f"/t/{thread.id}")  # fills the caches
    queries.start()
    page = await client.get(f"/t/{thread.id}")
    assert queries.stop() == 2
    assert f'href="/t/{other.id}">Another pairing</a>' in page.text
