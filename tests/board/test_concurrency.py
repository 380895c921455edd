"""Counters stay exact when many members post at once (real commits, separate connections)."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from forum.accounts.models import PointsEntry, User
from forum.app import create_app
from forum.board.models import Category, Post, Thread
from forum.core.db import Database
from tests.conftest import make_settings
from tests.helpers import CSRF_RE, login, make_category, make_thread, make_user

MEMBERS = 4
REPLIES_EACH = 8


async def test_concurrent_replies_keep_counters_exact(
    fresh_url: str, fresh_database: Database
) -> None:
    settings = make_settings(fresh_url, posts_max_per_minute=1000, posts_max_per_minute_ip=1000)
    async with fresh_database.sessionmaker() as session:
        users = [await make_user(session, settings, username=f"racer{i}") for i in range(MEMBERS)]
        category = await make_category(session)
        thread, _ = await make_thread(session, settings, users[0], category)
        await session.commit()
    app = create_app(settings, fresh_database)
    clients = []
    for i in range(MEMBERS):
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        await login(c, f"racer{i}")
        clients.append(c)

    async def reply(c: httpx.AsyncClient, n: int) -> int:
        page = await c.get(f"/t/{thread.id}")
        token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
        r = await c.post(f"/t/{thread.id}/reply", data={"body": f"reply {n}", "csrftoken": token})
        return r.status_code

    statuses = await asyncio.gather(*(reply(c, n) for c in clients for n in range(REPLIES_EACH)))
    for c in clients:
        await c.aclose()
    assert statuses == [303] * (MEMBERS * REPLIES_EACH)

    async with fresh_database.sessionmaker() as session:
        t = await session.get(Thread, thread.id)
        assert t is not None
        total = 1 + MEMBERS * REPLIES_EACH
        assert t.post_count == total
        assert (
            await session.scalar(select(func.count(Post.id)).where(Post.thread_id == t.id)) == total
        )
        assert t.last_post_id == await session.scalar(select(func.max(Post.id)))
        category = await session.get(Category, t.category_id)
        assert category is not None and category.post_count == total
        assert category.thread_count == 1 and category.last_post_at == t.last_post_at
        for i, user in enumerate(users):
            fresh = await session.get(User, user.id)
            assert fresh is not None
            expected_posts = REPLIES_EACH + (1 if i == 0 else 0)
            assert fresh.post_count == expected_posts
            assert fresh.points == 5 * expected_posts
            ledger = await session.scalar(
                select(func.sum(PointsEntry.delta)).where(PointsEntry.user_id == user.id)
            )
            assert ledger == fresh.points


async def test_deleting_threads_while_their_authors_reply_keeps_category_counters(
    fresh_url: str, fresh_database: Database
) -> None:
    """A moderator deletes threads while their authors reply elsewhere in the same category:
    both lock the category's row and the authors' rows, in one order, so neither deadlocks,
    and the category's counters equal a full recount afterwards."""
    from forum.board.categories import refresh_category_stats
    from forum.board.posting import create_reply
    from forum.board.threads import delete_thread
    from forum.core.db import begin_write

    settings = make_settings(fresh_url)
    async with fresh_database.sessionmaker() as session:
        authors = [await make_user(session, settings, username=f"writer{i}") for i in range(4)]
        mod = await make_user(session, settings, username="deleter", role="moderator")
        category = await make_category(session)
        doomed = []
        for i in range(6):
            thread, _ = await make_thread(session, settings, authors[i % 4], category, replies=0)
            for author in authors:
                await create_reply(session, settings, author, thread, f"reply in {i}")
            doomed.append(thread.id)
        kept, _ = await make_thread(session, settings, authors[0], category)
        await session.commit()

    async def delete(thread_id: int) -> None:
        async with fresh_database.sessionmaker() as s:
            await begin_write(s)
            thread = await s.get(Thread, thread_id)
            actor = await s.get(User, mod.id)
            assert thread is not None and actor is not None
            await delete_thread(s, settings, actor, thread, "cleanup")
            await s.commit()

    async def reply(author_id: int, n: int) -> None:
        async with fresh_database.sessionmaker() as s:
            await begin_write(s)
            thread = await s.get(Thread, kept.id)
            author = await s.get(User, author_id)
            assert thread is not None and author is not None
            await create_reply(s, settings, author, thread, f"meanwhile {n}")
            await s.commit()

    work = [delete(t) for t in doomed]
    work += [reply(authors[n % 4].id, n) for n in range(12)]
    await asyncio.gather(*work)

    async with fresh_database.sessionmaker() as session:
        row = (await session.execute(
            select(Category.thread_count, Category.post_count).where(Category.id == category.id)
        )).one()  # fmt: skip
        assert tuple(row) == (1, 13)
        await refresh_category_stats(session, [category.id])
        recounted = (await session.execute(
            select(Category.thread_count, Category.post_count).where(Category.id == category.id)
        )).one()  # fmt: skip
        assert tuple(recounted) == (1, 13)
