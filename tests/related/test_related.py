"""Related threads and articles: computed by the worker with the real sentence encoder, stored,
read by the pages, refreshed on edit, hide and delete, and respectful of visibility."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from forum.accounts.models import User
from forum.app import create_app
from forum.articles.services import add_comment, publish
from forum.board.models import Category, Post, Thread
from forum.board.posting import edit_post
from forum.board.threads import delete_thread
from forum.core.db import Database
from forum.core.settings import Settings
from forum.related.queries import related_articles, related_threads
from moderation.related_index import Matrix, RelatedIndex
from tests.conftest import make_settings
from tests.helpers import make_category, make_thread, make_user

pytest.importorskip("sentence_transformers")

TOPICS = [
    (
        "Starting a reverse mentoring pilot with our directors",
        "Juniors will mentor eight directors on digital skills.",
    ),
    (
        "Reverse mentoring: how juniors can give directors honest feedback",
        "Our graduate mentors find it hard to be frank with senior leaders.",
    ),
    (
        "Measuring retention after a mentoring programme",
        "How do we show the finance team that mentoring reduced attrition?",
    ),
    (
        "Office parking permits for the new building",
        "Facilities says permits will be allocated by seniority.",
    ),
    ("Best laptop bags for commuting", "Looking for a waterproof bag that fits a 15 inch laptop."),
]


async def seed(database: Database, settings: Settings) -> tuple[User, list[Thread], Category]:
    async with database.sessionmaker() as session:
        author = await make_user(session, settings, username="topics")
        category = await make_category(session, "General")
        threads = []
        for title, body in TOPICS:
            thread, _ = await make_thread(
                session, settings, author, category, title=title, body=body
            )
            threads.append(thread)
        await session.commit()
    return author, threads, category


async def page(database: Database, settings: Settings, path: str) -> str:
    app = create_app(settings, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get(path)
        assert r.status_code == 200
        return r.text


async def test_related_threads_are_semantic_and_stored(
    fresh_url: str, fresh_database: Database
) -> None:
    settings = make_settings(fresh_url)
    _, threads, _ = await seed(fresh_database, settings)
    before = await page(fresh_database, settings, f"/t/{threads[0].id}")
    assert "still being worked out" in before  # the fallback, and it says so
    index = RelatedIndex(settings, fresh_database)
    assert await index.run_once() == len(threads)
    async with fresh_database.sessionmaker() as session:
        related = await related_threads(session, "thread", threads[0].id, None)
    assert [r.id for r in related][0] == threads[1].id  # the other reverse-mentoring thread
    assert threads[0].id not in [r.id for r in related]
    assert [r.id for r in related].index(threads[2].id) < [r.id for r in related].index(
        threads[4].id
    )
    after = await page(fresh_database, settings, f"/t/{threads[0].id}")
    assert "still being worked out" not in after
    assert after.index(TOPICS[1][0]) < after.index(TOPICS[4][0])
    assert await index.run_once() == 0  # nothing left to refresh


async def test_delete_hide_and_staff_categories_leave_the_lists(
    fresh_url: str, fresh_database: Database
) -> None:
    settings = make_settings(fresh_url)
    author, threads, _ = await seed(fresh_database, settings)
    index = RelatedIndex(settings, fresh_database)
    await index.run_once()
    async with fresh_database.sessionmaker() as session:
        mod = await make_user(session, settings, username="relmod", role="moderator")
        victim = await session.get(Thread, threads[1].id)
        assert victim is not None
        await delete_thread(session, settings, mod, victim, "duplicate")
        await session.commit()
    await index.run_once()
    async with fresh_database.sessionmaker() as session:
        ids = [r.id for r in await related_threads(session, "thread", threads[0].id, None)]
        assert threads[1].id not in ids and len(ids) == 3
        # Hiding an opening post takes its thread out of everyone's lists at once (read time).
        first = await session.get(Post, threads[2].first_post_id)
        assert first is not None
        first.moderation_state = "hidden"
        # A thread moved to a staff-only category is shown to moderators only.
        staff = await make_category(session, "Staff room")
        staff.staff_only = True
        moved = await session.get(Thread, threads[3].id)
        assert moved is not None
        moved.category_id = staff.id
        await session.commit()
        member_view = [
            r.id for r in await related_threads(session, "thread", threads[0].id, author)
        ]
        assert threads[2].id not in member_view and threads[3].id not in member_view
        staff_view = [r.id for r in await related_threads(session, "thread", threads[0].id, mod)]
        assert threads[3].id in staff_view


async def test_editing_the_opening_post_refreshes_lists(
    fresh_url: str, fresh_database: Database
) -> None:
    settings = make_settings(fresh_url)
    author, threads, _ = await seed(fresh_database, settings)
    index = RelatedIndex(settings, fresh_database)
    await index.run_once()
    async with fresh_database.sessionmaker() as session:
        thread = await session.get(Thread, threads[4].id)
        post = await session.get(Post, threads[4].first_post_id)
        user = await session.get(User, author.id)
        assert thread is not None and post is not None and user is not None
        await edit_post(session, settings, user, post, thread,
                        "Our juniors will reverse-mentor the directors; how do we run the pilot?",
                        title="Reverse mentoring pilot for directors")  # fmt: skip
        await session.commit()
        assert thread.needs_related
    assert await index.run_once() == 1
    async with fresh_database.sessionmaker() as session:
        ids = [r.id for r in await related_threads(session, "thread", threads[0].id, None)]
    assert ids[0] == threads[4].id  # now the closest match: its neighbours' lists were rebuilt


async def test_articles_you_may_also_like_and_related_articles(
    fresh_url: str, fresh_database: Database
) -> None:
    settings = make_settings(fresh_url)
    _, threads, _ = await seed(fresh_database, settings)
    async with fresh_database.sessionmaker() as session:
        editor = await make_user(session, settings, username="editor1", role="editor")
        a1 = await publish(session, settings, editor, "How to start a reverse-mentoring pilot",
                           "A plan for a first cohort of juniors mentoring directors.", "Pick a sponsor, pair with care.")  # fmt: skip
        a2 = await publish(session, settings, editor, "Giving feedback upward without fear",
                           "How junior mentors can be frank with senior leaders.", "Describe what you saw.")  # fmt: skip
        a3 = await publish(session, settings, editor, "Choosing a laptop bag",
                           "Bags for commuters with big laptops.", "Waterproof ones last longer.")  # fmt: skip
        await add_comment(session, settings, editor, a2, "Frank feedback needs a safe channel.")
        await session.commit()
        await session.refresh(a2)
    index = RelatedIndex(settings, fresh_database)
    while await index.run_once():
        pass
    async with fresh_database.sessionmaker() as session:
        also = [a.id for a in await related_articles(session, "article", a1.id)]
        assert also[0] == a2.id and a1.id not in also
        for_thread = [a.id for a in await related_articles(session, "thread", threads[0].id)]
        assert for_thread.index(a1.id) < for_thread.index(a3.id)
    html = await page(fresh_database, settings, f"/articles/{a1.id}")
    assert "You May Also Like" in html and "Giving feedback upward without fear" in html
    thread_html = await page(fresh_database, settings, f"/t/{threads[0].id}")
    assert (
        "Related Articles" in thread_html
        and "How to start a reverse-mentoring pilot" in thread_html
    )
    # An article's discussion lists other articles, never its own (it listed it first).
    discussion = await page(fresh_database, settings, f"/t/{a2.thread_id}")
    listed = discussion.split("<h2>Related Articles</h2>", 1)[1].split("</ul>", 1)[0]
    assert f'href="/articles/{a1.id}"' in listed
    assert f'href="/articles/{a2.id}"' not in listed


def test_matrix_top_k_put_remove() -> None:
    m = Matrix()
    for i, v in enumerate(np.eye(4, dtype=np.float32)):
        m.put(i + 10, v)
    assert [i for i, _ in m.top(np.array([1, 0.5, 0, 0], dtype=np.float32), 2)] == [10, 11]
    assert [i for i, _ in m.top(np.array([1, 0, 0, 0], dtype=np.float32), 2, exclude=10)][0] != 10
    m.remove(11)
    assert 11 not in [i for i, _ in m.top(np.array([0, 1, 0, 0], dtype=np.float32), 4)]
    m.put(10, np.array([0, 0, 0, 1], dtype=np.float32))
    assert m.top(np.array([0, 0, 0, 1], dtype=np.float32), 1)[0][0] in (10, 13)
