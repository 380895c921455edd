"""Moderators' actions on threads (lock, pin, move, delete), each in the audit log, and the
recount of members' post counts from live posts."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.services import award_points
from forum.board.categories import refresh_category_stats
from forum.board.events import ThreadDeleted
from forum.board.models import Category, Post, Thread, shown_to_all
from forum.board.visibility import visible_posts
from forum.core import events
from forum.core.audit import audit
from forum.core.db import rowcount
from forum.core.errors import DomainError
from forum.core.settings import Settings

FLAG_ACTIONS = {"lock": ("is_locked", True), "unlock": ("is_locked", False),
                "pin": ("is_pinned", True), "unpin": ("is_pinned", False)}  # fmt: skip


async def set_thread_flag(
    session: AsyncSession, actor: User, thread: Thread, action: str, reason: str = ""
) -> None:
    """Lock, unlock, pin or unpin."""
    if action not in FLAG_ACTIONS:
        raise DomainError("action", "Unknown thread action.", status=404)
    flag, value = FLAG_ACTIONS[action]
    setattr(thread, flag, value)
    audit(session, actor, action, "thread", thread.id, reason)


async def move_thread(
    session: AsyncSession, actor: User, thread: Thread, category: Category, reason: str = ""
) -> None:
    old = thread.category_id
    before = await session.get(Category, old)
    thread.category_id = category.id
    thread.needs_related = True
    await session.flush()
    await refresh_category_stats(session, [old, category.id])
    # The log names the categories (it said "from category 1 to 5").
    was = f"“{before.name}”" if before is not None else f"category {old}"
    audit(session, actor, "move", "thread", thread.id, reason, f"from {was} to “{category.name}”")


async def delete_thread(
    session: AsyncSession, settings: Settings, actor: User, thread: Thread, reason: str = ""
) -> None:
    if thread.is_deleted:
        return
    thread.is_deleted = True
    thread.needs_related = True  # the worker takes it out of other threads' lists
    # The category's row first, then the authors': posting locks them in that order too, so a
    # delete and a reply by one of the thread's authors cannot deadlock.
    await session.flush()
    await refresh_category_stats(session, [thread.category_id])
    # Posts in a deleted thread stop counting: reverse each author's points and post count
    # through the ledger, so the totals can still be explained and recomputed. Only the posts
    # that count: a held or hidden one earned nothing (posting.set_post_state).
    per_author = await session.execute(
        select(Post.author_id, func.count(Post.id))
        .where(Post.thread_id == thread.id, Post.is_deleted.is_(False),
               shown_to_all(Post.moderation_state))
        .group_by(Post.author_id)
    )  # fmt: skip
    for author_id, count in per_author.all():
        await award_points(
            session,
            author_id,
            -settings.points_per_post * count,
            "thread_deleted",
            post_delta=-count,
            ranks_cache_seconds=settings.cache_seconds,
        )
    await session.execute(update(Post).where(Post.thread_id == thread.id).values(is_deleted=True))
    audit(session, actor, "delete", "thread", thread.id, reason)
    await events.announce(
        session, ThreadDeleted(thread.id, thread.author_id, actor.id, thread.title, reason)
    )


async def recount_thread_posts(session: AsyncSession) -> None:
    """Recompute every thread's post count: the live posts everyone can see."""
    public = (
        select(func.count(Post.id))
        .where(Post.thread_id == Thread.id, visible_posts(Post, "anonymous"))
        .scalar_subquery()
    )
    await session.execute(update(Thread).values(post_count=public))


async def recount_post_counts(session: AsyncSession) -> int:
    """Recompute every member's post count from their live posts that everyone can see (held
    and hidden ones do not count); the number of members."""
    posts = (
        select(func.count(Post.id))
        .where(Post.author_id == User.id, Post.is_deleted.is_(False),
               shown_to_all(Post.moderation_state))
        .scalar_subquery()
    )  # fmt: skip
    result = await session.execute(update(User).values(post_count=posts))
    return rowcount(result)
