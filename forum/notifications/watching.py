"""Watching levels per thread and per category, and the conditions other lists use to leave
out what a member muted."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, not_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.models import Thread
from forum.notifications.models import CategoryWatch, Level, ThreadWatch


def _insert(session: AsyncSession, table: type[ThreadWatch] | type[CategoryWatch]):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


async def thread_level(session: AsyncSession, user_id: int, thread_id: int) -> Level | None:
    level = await session.scalar(
        select(ThreadWatch.level).where(
            ThreadWatch.user_id == user_id, ThreadWatch.thread_id == thread_id
        )
    )
    return Level(level) if level else None


async def category_level(session: AsyncSession, user_id: int, category_id: int) -> Level | None:
    level = await session.scalar(
        select(CategoryWatch.level).where(
            CategoryWatch.user_id == user_id, CategoryWatch.category_id == category_id
        )
    )
    return Level(level) if level else None


async def set_thread_level(
    session: AsyncSession,
    user_id: int,
    thread_id: int,
    level: Level,
    *,
    only_if_unset: bool = False,
) -> None:
    """The member's level for the thread; with `only_if_unset`, a level they chose stays."""
    stmt = _insert(session, ThreadWatch).values(user_id=user_id, thread_id=thread_id, level=level)
    keys = ["user_id", "thread_id"]
    if only_if_unset:
        await session.execute(stmt.on_conflict_do_nothing(index_elements=keys))
    else:
        await session.execute(
            stmt.on_conflict_do_update(index_elements=keys, set_={"level": level.value})
        )


async def set_category_level(
    session: AsyncSession, user_id: int, category_id: int, level: Level
) -> None:
    stmt = _insert(session, CategoryWatch).values(
        user_id=user_id, category_id=category_id, level=level
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "category_id"], set_={"level": level.value}
        )
    )


def muted_filter(viewer_id: int) -> ColumnElement[bool]:
    """A condition on Thread: true for the threads `viewer_id` has NOT muted, neither the
    thread itself nor its category (unless they chose a level for the thread itself, which
    overrides the category's). Lists of threads (New, Unread, Latest) add it for members."""
    own = exists().where(ThreadWatch.user_id == viewer_id, ThreadWatch.thread_id == Thread.id)
    thread_muted = exists().where(
        ThreadWatch.user_id == viewer_id,
        ThreadWatch.thread_id == Thread.id,
        ThreadWatch.level == Level.muted.value,
    )
    category_muted = exists().where(
        CategoryWatch.user_id == viewer_id,
        CategoryWatch.category_id == Thread.category_id,
        CategoryWatch.level == Level.muted.value,
    )
    return and_(not_(thread_muted), not_(and_(category_muted, not_(own))))
