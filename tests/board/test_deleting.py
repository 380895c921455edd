"""Members delete their own posts: a reply at any time they could edit it, an opening post
(with its thread) only while nobody else has written in the thread. The post leaves every page,
count and search; its points go; its review item stays for moderators."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import PointsEntry, User
from forum.app import create_app
from forum.articles.services import add_comment, publish
from forum.board.models import Category, ModerationState, Post, Thread
from forum.board.posting import create_reply, deletion_refused, set_post_state
from forum.core.audit import AuditEntry
from forum.core.db import Database, utcnow
from forum.core.settings import Settings
from forum.review.queue import open_item
from tests.conftest import make_settings
from tests.helpers import CSRF_RE, login, make_category, make_thread, make_user, post_form


async def _fresh(db: AsyncSession, row: object) -> None:
    await db.refresh(row)


async def _reply_setup(db: AsyncSession, settings: Settings):  # type: ignore[no-untyped-def]
    opener = await make_user(db, settings, username="opener")
    writer = await make_user(db, settings, username="writer")
    await make_user(db, settings, username="other")
    await make_user(db, settings, username="mod1", role="moderator")
    category = await make_category(db, "Pairing")
    thread, (first,) = await make_thread(db, settings, opener, category)
    early = await create_reply(db, settings, writer, thread, "Pair across departments.")
    late = await create_reply(db, settings, writer, thread, "Regret this one: wrong thread.")
    await db.commit()
    return category, thread, first, early, late, writer


async def test_the_author_deletes_a_reply_and_every_count_follows(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    category, thread, first, early, late, writer = await _reply_setup(db, settings)
    for row in (thread, category, writer):
        await _fresh(db, row)
    posts_before, points_before = writer.post_count, writer.points
    thread_before, category_before = thread.post_count, category.post_count
    assert thread.last_post_id == late.id
    await login(client, "writer")
    page = await client.get(f"/t/{thread.id}")
    assert f'href="/p/{late.id}/delete"' in page.text
    assert f'href="/p/{first.id}/delete"' not in page.text  # not another member's post
    confirm = await client.get(f"/p/{late.id}/delete")
    assert confirm.status_code == 200 and "This cannot be undone." in confirm.text
    assert "Regret this one: wrong thread." in confirm.text
    r = await post_form(client, f"/p/{late.id}/delete", {}, f"/p/{late.id}/delete")
    assert r.status_code == 303 and r.headers["location"].endswith(f"/t/{thread.id}")
    for row in (late, thread, category, writer):
        await _fresh(db, row)
    assert late.is_deleted
    assert thread.post_count == thread_before - 1 and category.post_count == category_before - 1
    assert thread.last_post_id == early.id  # the last post is the newest one left
    assert writer.post_count == posts_before - 1
    assert writer.points == points_before - settings.points_per_post
    entry = await db.scalar(
        select(PointsEntry).where(
            PointsEntry.post_id == late.id, PointsEntry.reason == "post_deleted"
        )
    )
    assert entry is not None and entry.delta == -settings.points_per_post
    audit = await db.scalar(select(AuditEntry).where(AuditEntry.target_id == late.id))
    assert audit is not None and audit.action == "delete"
    # Gone for everyone, its author and moderators included; nothing else went.
    page = await client.get(f"/t/{thread.id}")
    assert "Regret this one" not in page.text and "Pair across departments." in page.text
    assert "Your post has been deleted." in page.text
    assert (await client.get(f"/p/{late.id}")).status_code == 404
    assert (await client.get(f"/p/{late.id}/delete")).status_code == 404
    found = await client.get("/search", params={"q": "Regret"})
    assert "wrong thread" not in found.text
    await login(client, "mod1")
    assert "Regret this one" not in (await client.get(f"/t/{thread.id}")).text


async def test_only_the_author_deletes_and_only_with_the_form_token(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _category, thread, _first, early, _late, _writer = await _reply_setup(db, settings)
    anonymous = await client.get(f"/p/{early.id}/delete")
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    for who in ("other", "mod1"):  # a moderator hides through the review queue, not here
        await login(client, who)
        page = await client.get(f"/p/{early.id}/delete")
        assert page.status_code == 403 and "You can only delete your own posts." in page.text
        assert 'action="/p/' not in page.text.split("<main", 1)[-1].split("</main>")[0]
        r = await post_form(client, f"/p/{early.id}/delete", {}, f"/t/{thread.id}")
        assert r.status_code == 403
    await login(client, "writer")
    r = await client.post(f"/p/{early.id}/delete", data={})
    assert r.status_code == 403  # no CSRF token
    await _fresh(db, early)
    assert not early.is_deleted


async def test_a_locked_thread_or_a_suspended_author_keeps_the_post(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _category, thread, _first, early, _late, _writer = await _reply_setup(db, settings)
    thread.is_locked = True
    await db.commit()
    await login(client, "writer")
    page = await client.get(f"/t/{thread.id}")
    assert f'href="/p/{early.id}/delete"' not in page.text
    r = await post_form(client, f"/p/{early.id}/delete", {}, f"/t/{thread.id}")
    assert r.status_code == 403 and "This thread is locked" in r.text
    await _fresh(db, early)
    assert not early.is_deleted
    thread.is_locked = False
    writer = await _user(db, "writer")
    writer.status, writer.suspended_until = "suspended", utcnow() + timedelta(days=1)
    await db.commit()
    r = await post_form(client, f"/p/{early.id}/delete", {}, f"/t/{thread.id}")
    assert r.status_code == 403 and "Your account is suspended" in r.text
    await _fresh(db, early)
    assert not early.is_deleted


async def test_an_unanswered_opening_post_takes_its_thread_an_answered_one_stays(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="starter")
    await make_user(db, settings, username="answerer")
    category = await make_category(db, "Programmes")
    lone, lone_posts = await make_thread(db, settings, author, category, "Posted by mistake",
                                         "Meant for another forum.", replies=1)  # fmt: skip
    answered, answered_posts = await make_thread(db, settings, author, category, "A real question")
    reply = await create_reply(db, settings, await _user(db, "answerer"), answered, "An answer.")
    await db.commit()
    await _fresh(db, category)
    await _fresh(db, author)
    threads_before, posts_before = category.thread_count, author.post_count
    await login(client, "starter")
    page = await client.get(f"/t/{lone.id}")
    assert f'href="/p/{lone_posts[0].id}/delete"' in page.text  # only the opener wrote there
    confirm = await client.get(f"/p/{lone_posts[0].id}/delete")
    assert (
        confirm.status_code == 200 and "deletes the thread and your replies in it" in confirm.text
    )
    r = await post_form(client, f"/p/{lone_posts[0].id}/delete", {}, f"/t/{lone.id}")
    assert r.status_code == 303 and r.headers["location"].endswith(f"/c/{category.slug}")
    for row in (lone, category, author):
        await _fresh(db, row)
    assert lone.is_deleted and category.thread_count == threads_before - 1
    assert author.post_count == posts_before - 2  # the opening post and the author's reply
    listing = await client.get(f"/c/{category.slug}")
    assert "Your thread “Posted by mistake” has been deleted." in listing.text
    assert f'href="/t/{lone.id}"' not in listing.text
    assert (await client.get(f"/t/{lone.id}")).status_code == 404
    # Deleted by its author: no moderation notice to themselves.
    assert "Posted by mistake" not in (await client.get("/notifications")).text
    # Answered by someone else: the opening post stays, and says why.
    shown = await client.get(f"/t/{answered.id}")
    assert f'href="/p/{answered_posts[0].id}/delete"' not in shown.text
    # Where its Delete link was, the page says why it is gone (the link vanished unexplained).
    assert shown.text.count("Others have replied, so the thread stays") == 1
    page = await client.get(f"/p/{answered_posts[0].id}/delete")
    assert page.status_code == 409 and "This thread has replies" in page.text
    r = await post_form(client, f"/p/{answered_posts[0].id}/delete", {}, f"/t/{answered.id}")
    assert r.status_code == 409
    await _fresh(db, answered)
    await _fresh(db, reply)
    assert not answered.is_deleted and not reply.is_deleted


async def _user(db: AsyncSession, name: str) -> User:
    user = await db.scalar(select(User).where(User.username == name))
    assert user is not None
    return user


async def test_an_accepted_answer_deleted_is_unmarked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    category, thread, _first, early, _late, _writer = await _reply_setup(db, settings)
    category.is_qa = True
    thread.accepted_post_id = early.id
    await db.commit()
    await login(client, "writer")
    r = await post_form(client, f"/p/{early.id}/delete", {}, f"/t/{thread.id}")
    assert r.status_code == 303
    await _fresh(db, thread)
    assert thread.accepted_post_id is None


async def test_a_flagged_post_deleted_stays_in_the_queue_for_its_author_to_be_warned(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _category, thread, _first, early, _late, _writer = await _reply_setup(db, settings)
    item = await open_item(db, early.id, ["DISMISSIVE_OF_JUNIORS"], verdict="flag", priority=25)
    await db.commit()
    await login(client, "writer")
    assert (
        await post_form(client, f"/p/{early.id}/delete", {}, f"/t/{thread.id}")
    ).status_code == 303
    await login(client, "mod1")
    page = await client.get(f"/mod/items/{item.id}")
    assert page.status_code == 200 and "Its author has deleted this post" in page.text
    assert 'value="edit_approve"' not in page.text and 'value="warn"' in page.text
    refused = await post_form(client, f"/mod/items/{item.id}",
                              {"action": "edit_approve", "body": "Rewritten.", "reason": "x",
                               "version": str(item.version)}, "/mod")  # fmt: skip
    assert refused.status_code == 400 and "Its author has deleted this post" in refused.text
    await _fresh(db, early)
    assert early.body_source == "Pair across departments."
    r = await post_form(client, f"/mod/items/{item.id}",
                        {"action": "warn", "reason": "Dismissive of a junior colleague.",
                         "version": str(item.version)}, "/mod")  # fmt: skip
    assert r.status_code == 303
    await _fresh(db, item)
    assert item.status == "closed" and item.decision == "warn"


async def test_an_articles_discussion_stays_with_its_article(
    db: AsyncSession, settings: Settings
) -> None:
    editor = await make_user(db, settings, username="editor1", role="editor")
    article = await publish(db, settings, editor, "Reverse mentoring in a year",
                            "What one year of reverse mentoring taught us.", "The whole story.")  # fmt: skip
    comment = await add_comment(db, settings, editor, article, "A note from the author.")
    await db.commit()
    thread = await db.get(Thread, comment.thread_id)
    assert thread is not None and thread.first_post_id is not None
    opening = await db.get(Post, thread.first_post_id)
    assert opening is not None
    refused = await deletion_refused(db, editor, opening, thread)
    assert refused is not None and refused.status == 409
    assert refused.message == "This thread is an article's discussion: it stays with the article."
    assert await deletion_refused(db, editor, comment, thread) is None
    # An ordinary thread of one post by the same editor may go (the answer is the article's).
    own, (first,) = await make_thread(db, settings, editor, await make_category(db))
    assert await deletion_refused(db, editor, first, own) is None


async def test_a_post_out_of_view_is_deleted_without_taking_counts_it_never_had(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A held post never counted (nor earned points): deleting it changes no count."""
    category, thread, _first, early, late, writer = await _reply_setup(db, settings)
    await set_post_state(db, late, ModerationState.held, "Held.", points=settings.points_per_post)
    await db.commit()
    for row in (thread, category, writer):
        await _fresh(db, row)
    before = (thread.post_count, category.post_count, writer.post_count, writer.points)
    await login(client, "writer")
    assert (
        await post_form(client, f"/p/{late.id}/delete", {}, f"/t/{thread.id}")
    ).status_code == 303
    for row in (late, thread, category, writer):
        await _fresh(db, row)
    assert late.is_deleted
    assert (thread.post_count, category.post_count, writer.post_count, writer.points) == before
    assert thread.last_post_id == early.id


async def test_two_deletes_at_once_take_the_counts_off_once(
    fresh_url: str, fresh_database: Database
) -> None:
    """Both requests pass the page's checks; the post's row is locked and read again before
    its counts go (a probe of PostgreSQL took them off twice)."""
    settings = make_settings(fresh_url)
    async with fresh_database.sessionmaker() as session:
        category, thread, _first, _early, late, writer = await _reply_setup(session, settings)
        before = (writer.post_count, writer.points)
        ids = (thread.id, category.id, writer.id, late.id)
    app = create_app(settings, fresh_database)
    clients = []
    for _ in range(2):
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        await login(c, "writer")
        clients.append(c)
    tokens = [CSRF_RE.search((await c.get(f"/p/{ids[3]}/delete")).text) for c in clients]
    statuses = await asyncio.gather(*(
        c.post(f"/p/{ids[3]}/delete", data={"csrftoken": t.group(1)})  # type: ignore[union-attr]
        for c, t in zip(clients, tokens, strict=True)
    ))  # fmt: skip
    for c in clients:
        await c.aclose()
    assert sorted(r.status_code for r in statuses) in ([303, 404], [303, 303])
    async with fresh_database.sessionmaker() as session:
        t = await session.get(Thread, ids[0])
        cat = await session.get(Category, ids[1])
        member = await session.get(User, ids[2])
        assert t is not None and cat is not None and member is not None
        assert t.post_count == 2 and cat.post_count == 2
        assert (member.post_count, member.points) == (before[0] - 1, before[1] - 5)
