"""What each member has read: the last post they have seen in each thread.

A thread page marks the highest post id it showed as read. Writing that inside the page's
own GET would make every member's page view a write transaction (on SQLite a read-then-write
transaction fails under concurrency; see forum/board/viewcount.py), so, like view counts,
marks are gathered in memory and written in batches every few seconds. A mark only moves
forward: the batch is one upsert per thread whose WHERE leaves the row alone unless the new
post is later, and a mark no later than one this process already knows is dropped before it
reaches the buffer, so re-reading a page writes nothing at all. Until a batch is written,
pages served by the same process read the pending marks too (`ReadMarks.mark_for`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any

from sqlalchemy import ForeignKey, Integer, and_, case, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from forum.accounts.models import User
from forum.board.events import ThreadsRead
from forum.board.models import Post, Thread
from forum.board.visibility import viewer_kind, visible_posts
from forum.core import events
from forum.core.db import Base, Database

log = logging.getLogger("candor.reads")


class ThreadRead(Base):
    """The last post a member has read in a thread (by id: posts are numbered in order)."""

    __tablename__ = "thread_reads"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    post_id: Mapped[int] = mapped_column(Integer)


Key = tuple[int, int]  # (user_id, thread_id)


class ReadMarks:
    """Read marks gathered per process and written in batches (see the module's text)."""

    def __init__(self, interval: float = 3.0, remembered: int = 50_000) -> None:
        self.interval = interval
        self.pending: dict[Key, int] = {}
        # The marks this process has written or seen written, newest last (bounded): a page
        # re-read shows no later post, and costs nothing.
        self.known: OrderedDict[Key, int] = OrderedDict()
        self.remembered = remembered
        self._task: asyncio.Task[None] | None = None

    def mark(self, user_id: int, thread_id: int, post_id: int) -> bool:
        """Note that the member has read the thread up to `post_id`; False if that is not
        later than what is already known (nothing will be written)."""
        key = (user_id, thread_id)
        if post_id <= max(self.pending.get(key, 0), self.known.get(key, 0)):
            return False
        self.pending[key] = post_id
        return True

    def mark_for(self, user_id: int, thread_id: int) -> int | None:
        """The member's mark this process holds but may not have written yet."""
        key = (user_id, thread_id)
        mark = max(self.pending.get(key, 0), self.known.get(key, 0))
        return mark or None

    def pending_for(self, user_id: int, limit: int = 100) -> dict[int, int]:
        """The member's marks not written yet, by thread (the newest `limit`)."""
        found = {thread: post for (user, thread), post in self.pending.items() if user == user_id}
        return dict(list(found.items())[-limit:])

    def remember(self, key: Key, post_id: int) -> None:
        self.known[key] = max(post_id, self.known.get(key, 0))
        self.known.move_to_end(key)
        while len(self.known) > self.remembered:
            self.known.popitem(last=False)

    async def flush(self, database: Database) -> int:
        """Write the pending marks; the number written. They stay pending (and so seen by
        this process's pages) until written: a page served while the batch is being written
        would otherwise find the mark neither here nor yet in the database."""
        if not self.pending:
            return 0
        batch = dict(self.pending)
        dropped: dict[Key, int] = {}
        try:
            async with database.writing() as session:
                await write_marks(session, batch)
                await session.commit()
        except IntegrityError:
            # A member or thread removed since it was read: write the others one by one and
            # drop what cannot be written, so one gone row never holds back every mark.
            batch, dropped = await self._one_by_one(database, batch)
        except Exception:  # the database is down or busy: the marks wait for the next flush
            log.warning("could not write %d read marks; will retry", len(batch))
            return 0
        for key, post_id in [*batch.items(), *dropped.items()]:
            if self.pending.get(key) == post_id:  # (not moved on while it was written)
                del self.pending[key]
        for key, post_id in batch.items():
            self.remember(key, post_id)
        return len(batch)

    async def _one_by_one(
        self, database: Database, batch: dict[Key, int]
    ) -> tuple[dict[Key, int], dict[Key, int]]:
        """The marks written and the marks dropped (their member or thread is gone); the
        rest (the database busy meanwhile) stay pending."""
        written: dict[Key, int] = {}
        dropped: dict[Key, int] = {}
        for key, post_id in batch.items():
            try:
                async with database.writing() as session:
                    await write_marks(session, {key: post_id})
                    await session.commit()
            except IntegrityError:
                log.info("dropped the read mark of member %d in thread %d (gone)", *key)
                dropped[key] = post_id
                continue
            except Exception:  # down or busy meanwhile: kept for the next flush
                continue
            written[key] = post_id
        return written, dropped

    def start(self, database: Database) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(self.interval)
                await self.flush(database)

        self._task = asyncio.create_task(loop())

    async def stop(self, database: Database) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush(database)


async def write_marks(session: AsyncSession, marks: dict[Key, int]) -> None:
    """Upsert read marks, moving each only forward (in key order, so concurrent batches
    lock rows in one order)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    for (user_id, thread_id), post_id in sorted(marks.items()):
        stmt = insert(ThreadRead).values(user_id=user_id, thread_id=thread_id, post_id=post_id)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id", "thread_id"],
            set_={"post_id": stmt.excluded.post_id},
            where=ThreadRead.post_id < stmt.excluded.post_id,
        )
        await session.execute(stmt)
    await events.announce(session, ThreadsRead(tuple((u, t, p) for (u, t), p in marks.items())))


async def read_marks(
    session: AsyncSession, marks: ReadMarks | None, viewer: User, thread_ids: list[int]
) -> dict[int, tuple[int, int]]:
    """For each of `thread_ids` the member has opened: (last post read, visible posts after
    it), in one query. Marks this process holds but has not written yet count too."""
    if not thread_ids:
        return {}
    pending = marks.pending_for(viewer.id) if marks is not None else {}
    mark: Any = ThreadRead.post_id
    waiting = [
        (and_(Thread.id == thread_id, or_(mark.is_(None), mark < post_id)), literal(post_id))
        for thread_id, post_id in pending.items()
        if thread_id in thread_ids
    ]
    if waiting:
        mark = case(*waiting, else_=ThreadRead.post_id)
    later = aliased(Post)
    unread = (
        select(func.count(later.id))
        .where(
            later.thread_id == Thread.id,
            later.id > mark,
            visible_posts(later, viewer_kind(viewer), viewer.id),
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Thread.id, mark, unread)
        .outerjoin(
            ThreadRead, and_(ThreadRead.thread_id == Thread.id, ThreadRead.user_id == viewer.id)
        )
        .where(Thread.id.in_(thread_ids))
    )
    return {
        thread_id: (int(read_to), int(count or 0))
        for thread_id, read_to, count in rows.all()
        if read_to is not None
    }


async def last_read(
    session: AsyncSession, marks: ReadMarks | None, viewer: User, thread_id: int
) -> int | None:
    """The last post the member has read in the thread (None: never opened)."""
    stored = await session.scalar(
        select(ThreadRead.post_id).where(
            ThreadRead.user_id == viewer.id, ThreadRead.thread_id == thread_id
        )
    )
    held = marks.mark_for(viewer.id, thread_id) if marks is not None else None
    return max(stored or 0, held or 0) or None


async def first_unread(
    session: AsyncSession, viewer: User, thread_id: int, after: int
) -> tuple[int, int] | None:
    """The first post after `after` the member may see, with the number of visible posts
    before it (to find its page); None if there is none."""
    kind = viewer_kind(viewer)
    post_id = await session.scalar(
        select(func.min(Post.id)).where(
            Post.thread_id == thread_id, Post.id > after, visible_posts(Post, kind, viewer.id)
        )
    )
    if post_id is None:
        return None
    before = await session.scalar(
        select(func.count(Post.id)).where(
            Post.thread_id == thread_id, Post.id < post_id, visible_posts(Post, kind, viewer.id)
        )
    )
    return int(post_id), int(before or 0)
