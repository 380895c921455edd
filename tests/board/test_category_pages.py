"""Parent categories and the home page: each category with its thread and post counts and
its latest activity (thread, member, time), as the viewer may see them."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.models import Category, ModerationState
from forum.board.posting import create_reply, create_thread, set_post_state
from forum.board.threads import delete_thread
from forum.core.db import utcnow
from forum.core.settings import Settings
from tests.conftest import QueryCounter
from tests.helpers import login, make_category, make_thread, make_user

HIDDEN_TITLE = "Quetzal held opening"
DELETED_TITLE = "Wombat deleted thread"
STAFF_TITLE = "Narwhal staff matters"


async def _board(db: AsyncSession, settings: Settings) -> dict[str, object]:
    """A parent ("Human Resources") with no threads of its own and three sub-categories:
    two public ones with threads, and a staff-only one. The newest activity is in places
    only some viewers may see: a held opening post, a deleted thread, a staff-only category."""
    now = utcnow()
    author = await make_user(db, settings, username="hannah")
    replier = await make_user(db, settings, username="ravi")
    quiet = await make_user(db, settings, username="quinn_held")
    await make_user(db, settings, username="reader")
    mod = await make_user(db, settings, username="mona", role="moderator")
    parent = await make_category(db, "Human Resources")
    mentoring = await make_category(db, "Mentoring", parent=parent)
    coaching = await make_category(db, "Coaching", parent=parent)
    staff = await make_category(db, "Staff room", parent=parent)
    staff.staff_only = True
    t1, _ = await create_thread(
        db, settings, author, mentoring, "Pairing mentors", "How?", now - timedelta(hours=5)
    )
    await create_reply(db, settings, replier, t1, "Like this.", now=now - timedelta(hours=4))
    await create_thread(
        db, settings, author, coaching, "Coaching basics", "Start.", now - timedelta(hours=3)
    )
    # Newer, but held: its title and author must not show to others.
    quiet.premoderated = True
    await create_thread(
        db, settings, quiet, mentoring, HIDDEN_TITLE, "Held.", now - timedelta(hours=2)
    )
    # A held reply in a visible thread: it is nobody's last post.
    await create_reply(db, settings, quiet, t1, "Held reply.", now=now - timedelta(hours=1))
    deleted, _ = await create_thread(
        db, settings, replier, coaching, DELETED_TITLE, "Gone.", now - timedelta(minutes=50)
    )
    await delete_thread(db, settings, mod, deleted, "duplicate")
    await create_thread(
        db, settings, mod, staff, STAFF_TITLE, "Staff only.", now - timedelta(minutes=10)
    )
    await db.commit()
    return {"parent": parent, "mentoring": mentoring, "coaching": coaching, "staff": staff}


@pytest.mark.parametrize("viewer", ["anonymous", "reader", "quinn_held", "mona"])
async def test_a_parent_category_shows_its_sub_categories_activity(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, viewer: str
) -> None:
    world = await _board(db, settings)
    if viewer != "anonymous":
        await login(client, viewer)
    parent = world["parent"]
    assert isinstance(parent, Category)
    page = (await client.get(f"/c/{parent.slug}")).text
    assert "No threads here yet" not in page
    assert "Log in to start a thread" not in page and "New thread" not in page
    assert "Sub-forums" in page
    # Mentoring: its latest visible thread, with the last public post's member.
    assert 'href="/c/mentoring">Mentoring</a>' in page
    assert "Pairing mentors</a> by <a" in page and 'href="/u/ravi">ravi</a>' in page
    assert "Coaching basics</a>" in page
    for secret in (HIDDEN_TITLE, DELETED_TITLE, 'by <a href="/u/quinn_held"'):
        assert secret not in page, (viewer, secret)
    # The staff-only sub-category, its thread and its counts, for moderators only.
    assert (STAFF_TITLE in page) == (viewer == "mona")
    assert ("Staff room" in page) == (viewer == "mona")


async def test_counts_and_latest_activity_of_a_parent_add_up_its_sub_categories(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    from forum.board.categories import category_tree

    world = await _board(db, settings)
    parent = world["parent"]
    assert isinstance(parent, Category)
    member = await make_user(db, settings)
    mod = await make_user(db, settings, role="moderator")
    for viewer, threads, posts, latest in [
        (None, 2, 3, "Coaching basics"),
        (member, 2, 3, "Coaching basics"),
        (mod, 3, 4, STAFF_TITLE),
    ]:
        [root] = [r for r in await category_tree(db, viewer) if r.category.id == parent.id]
        assert (root.threads, root.posts) == (0, 0)  # nothing of its own
        assert (root.total_threads, root.total_posts) == (threads, posts)
        assert root.total_latest is not None and root.total_latest.title == latest
        names = {child.category.name for child in root.children}
        assert ("Staff room" in names) == (viewer is mod)


async def test_the_home_page_names_the_last_posts_thread_and_member(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    world = await _board(db, settings)
    mentoring = world["mentoring"]
    page = (await client.get("/")).text
    row = page[page.index('href="/c/mentoring"') :]
    row = row[: row.index("</tr>")]
    assert "Pairing mentors</a>" in row and 'href="/u/ravi">ravi</a>' in row
    assert "?page=last" in row  # the link goes to the last post
    assert isinstance(mentoring, Category)
    for secret in (HIDDEN_TITLE, DELETED_TITLE, STAFF_TITLE, "quinn_held", "Staff room"):
        assert secret not in page
    # Once the held opening post is approved, it is the latest activity for everyone.
    from sqlalchemy import select

    from forum.board.models import Post, Thread

    held = await db.scalar(
        select(Post)
        .join(Thread, Thread.first_post_id == Post.id)
        .where(Thread.title == HIDDEN_TITLE)
    )
    assert held is not None
    await set_post_state(db, held, ModerationState.clear)
    await db.commit()
    page = (await client.get("/")).text
    assert HIDDEN_TITLE in page and 'href="/u/quinn_held"' in page


async def test_empty_state_only_when_there_is_truly_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="owner")
    empty = await make_category(db, "Empty room")
    parent = await make_category(db, "Parent with threads")
    child = await make_category(db, "Child", parent=parent)
    await create_thread(db, settings, author, parent, "A thread of the parent's own", "Hi.")
    await create_thread(db, settings, author, child, "A thread in the child", "Hi.")
    empty_parent = await make_category(db, "Empty parent")
    await make_category(db, "Empty child", parent=empty_parent)
    await db.commit()
    assert "No threads here yet." in (await client.get(f"/c/{empty.slug}")).text
    page = (await client.get(f"/c/{parent.slug}")).text
    assert "No threads here yet." not in page
    assert "A thread of the parent&#39;s own" in page or "A thread of the parent's own" in page
    assert "Threads in Parent with threads" in page and "Log in to start a thread" in page
    assert "A thread in the child</a>" in page  # the child's latest activity
    # A parent whose sub-categories are all empty lists them, with no empty-state text.
    page = (await client.get(f"/c/{empty_parent.slug}")).text
    assert "Empty child" in page and "No threads here yet." not in page


async def test_home_page_queries_do_not_grow_with_sub_categories_and_threads(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, queries: QueryCounter
) -> None:
    author = await make_user(db, settings)
    parent = await make_category(db)
    await create_thread(db, settings, author, await make_category(db, parent=parent), "One", "x")
    await db.commit()
    queries.start()
    assert (await client.get("/")).status_code == 200
    before = queries.stop()
    for i in range(4):
        child = await make_category(db, parent=parent)
        await create_thread(db, settings, author, child, f"Thread {i}", "x")
    await db.commit()
    queries.start()
    assert (await client.get("/")).status_code == 200
    assert queries.stop() == before


async def test_a_hidden_threads_replies_stay_out_of_its_categorys_post_count(
    db: AsyncSession, settings: Settings
) -> None:
    from sqlalchemy import select

    from forum.board.categories import refresh_category_stats

    author = await make_user(db, settings, username="held_opener")
    mod = await make_user(db, settings, username="replying_mod", role="moderator")
    category = await make_category(db, "Counted")
    author.premoderated = True
    thread, first = await create_thread(db, settings, author, category, "Held thread", "x")
    author.premoderated = False
    # Replies its author and a moderator can write, public in themselves.
    await create_reply(db, settings, mod, thread, "A moderator's reply")
    await create_reply(db, settings, author, thread, "The author's reply")
    await db.commit()

    async def counts() -> tuple[int, int]:
        row = (
            await db.execute(
                select(Category.thread_count, Category.post_count)
                .where(Category.id == category.id)
                .execution_options(populate_existing=True)
            )
        ).one()
        return row[0], row[1]

    async def recounted() -> tuple[int, int]:
        kept = await counts()
        await refresh_category_stats(db, [category.id])
        assert await counts() == kept  # the kept counts are what a recount finds
        return kept

    assert await recounted() == (0, 0)
    await set_post_state(db, first, ModerationState.clear)  # approved: the thread and replies
    assert await recounted() == (1, 3)
    await set_post_state(db, first, ModerationState.hidden, "Hidden by a moderator")
    assert await recounted() == (0, 0)
    await create_reply(db, settings, mod, thread, "Another reply while hidden")
    assert await recounted() == (0, 0)
    await set_post_state(db, first, ModerationState.clear)
    assert await recounted() == (1, 4)


async def test_the_home_page_welcomes_visitors_and_members_who_have_not_posted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's newcomer found nothing on the home page saying what the board is or what to
    do first."""
    quiet = await make_user(db, settings, username="quiet_q")
    talker = await make_user(db, settings, username="talker_t")
    await make_thread(db, settings, talker, await make_category(db))
    await db.commit()
    visitor = (await client.get("/")).text
    assert "Welcome to Candor" in visitor and 'href="/register"' in visitor
    await login(client, "quiet_q")
    member = (await client.get("/")).text
    assert "Welcome, quiet_q" in member and "New thread" in member
    client.cookies.clear()
    await login(client, "talker_t")
    assert "welcome-heading" not in (await client.get("/")).text
    assert quiet.post_count == 0


async def test_the_home_page_names_a_forum_without_sub_forums_once(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The newcomer probe saw "Article discussions — Comments on the board's articles." twice,
    as a group's heading and its only row, and a lone "Latest" link under the welcome."""
    lone = await make_category(db, "Lone forum")
    lone.description = "A forum with no sub-forums."
    parent = await make_category(db, "Parent group")
    await make_category(db, "Child forum", parent=parent)
    await db.commit()
    page = (await client.get("/")).text
    assert page.count("A forum with no sub-forums.") == 1
    assert '<h2 class="visually-hidden">Lone forum</h2>' in page
    assert ">Parent group</a></h2>" in page  # a group keeps its heading
    assert "list-tabs" not in page  # visitors have Latest in the header
    await make_user(db, settings, username="tabbed")
    await db.commit()
    await login(client, "tabbed")
    assert "list-tabs" in (await client.get("/")).text
