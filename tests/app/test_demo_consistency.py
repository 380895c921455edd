"""The demo board tells a consistent story: nobody wrote before joining, a reply never comes
before its thread, points are dated with what earned them, and every profile lists its recent
posts newest first."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import aliased

from forum.accounts.models import PointsEntry, User
from forum.app import create_app
from forum.articles.models import Article
from forum.board.models import Post, Thread
from forum.core.db import Database
from forum.demo import populate
from forum.demo.content import MEMBERS
from tests.conftest import make_settings


async def test_demo_dates_are_consistent_over_the_whole_board(
    fresh_url: str, fresh_database: Database
) -> None:
    settings = make_settings(fresh_url)
    async with fresh_database.sessionmaker() as session:
        await populate(session, settings)
        await session.commit()
    async with fresh_database.sessionmaker() as session:
        author = aliased(User)
        posts = (
            await session.execute(
                select(
                    author.username, author.joined_at, Post.id, Post.created_at, Thread.created_at
                )
                .join(author, author.id == Post.author_id)
                .join(Thread, Thread.id == Post.thread_id)
            )  # fmt: skip
        ).all()
        assert len(posts) > 40
        early = [(name, pid) for name, joined, pid, at, _ in posts if at < joined]
        assert early == [], f"posts dated before their author joined: {early}"
        before_thread = [pid for _, _, pid, at, started in posts if at < started]
        assert before_thread == []
        threads = (
            await session.execute(
                select(User.username, User.joined_at, Thread.created_at).join(
                    User, User.id == Thread.author_id
                )
            )
        ).all()
        assert [name for name, joined, at in threads if at < joined] == []
        articles = (
            await session.execute(
                select(User.username, User.joined_at, Article.created_at).join(
                    User, User.id == Article.author_id
                )
            )
        ).all()
        assert [name for name, joined, at in articles if at < joined] == []
        # Points are dated with what earned them: never before the member joined, and a
        # post's entry on the post's own date.
        ledger = (
            await session.execute(
                select(User.username, User.joined_at, PointsEntry.created_at, Post.created_at)
                .join(User, User.id == PointsEntry.user_id)
                .outerjoin(Post, Post.id == PointsEntry.post_id)
            )
        ).all()
        assert [name for name, joined, at, _ in ledger if at < joined] == []
        assert [name for name, _, at, posted in ledger if posted is not None and at != posted] == []
        assert (await session.scalars(select(User.rank_notice))).all() == [None] * len(MEMBERS)
        # Threads read for a while have been viewed, more the more replies they have.
        views = (await session.execute(select(Thread.view_count, Thread.post_count))).all()
        assert all(v > 0 for v, _ in views)
        assert max(views, key=lambda r: r[1])[0] > min(views, key=lambda r: r[1])[0]

    app = create_app(settings, fresh_database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for username, *_ in MEMBERS:
            page = (await c.get(f"/u/{username}")).text
            recent = page.split("<h2>Recent posts</h2>")[1].split("</section>")[0]
            dates = [
                datetime.strptime(d, "%d %b %Y, %H:%M UTC")
                for d in re.findall(r'<span class="muted small">([^<]+ UTC)</span>', recent)
            ]
            assert dates == sorted(dates, reverse=True), username
