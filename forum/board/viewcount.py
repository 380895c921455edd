"""Thread view counts, buffered in memory and written in batches.

Counting a view inside the page's own transaction would make every page view a database
write: on SQLite a read-then-write transaction fails at once under concurrency, and on
PostgreSQL every view of a busy thread would queue on that thread's row lock. Views are
approximate by nature, so each process adds them up and flushes them every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, OrderedDict

from sqlalchemy import update

from forum.board.models import Thread
from forum.core.db import Database

log = logging.getLogger("candor.views")


# A viewer's repeat views of one thread count once per this many seconds (per process), so
# reloading a page, or a script fetching it, does not run its count up; at most this many
# recent (viewer, thread) pairs are remembered, the oldest forgotten first.
REPEAT_SECONDS = 1800.0
REMEMBERED = 50_000


class ViewCounter:
    def __init__(self, interval: float = 5.0, repeat_seconds: float = REPEAT_SECONDS) -> None:
        self.interval = interval
        self.repeat_seconds = repeat_seconds
        self.pending: Counter[int] = Counter()
        self._seen: OrderedDict[tuple[str, int], float] = OrderedDict()
        self._task: asyncio.Task[None] | None = None

    def add(self, thread_id: int, viewer: str = "") -> bool:
        """Count a view of `thread_id` by `viewer` (a member's id or a guest's address) unless
        they were counted on it within `repeat_seconds`; whether it counted."""
        now = time.monotonic()
        if viewer:
            key = (viewer, thread_id)
            last = self._seen.get(key)
            if last is not None and now - last < self.repeat_seconds:
                return False
            self._seen[key] = now
            self._seen.move_to_end(key)
            while len(self._seen) > REMEMBERED:
                self._seen.popitem(last=False)
        self.pending[thread_id] += 1
        return True

    async def flush(self, database: Database) -> int:
        if not self.pending:
            return 0
        batch, self.pending = self.pending, Counter()
        try:
            async with database.writing() as session:
                for thread_id, n in sorted(batch.items()):
                    await session.execute(
                        update(Thread)
                        .where(Thread.id == thread_id)
                        .values(view_count=Thread.view_count + n)
                    )
                await session.commit()
        except Exception:  # the database is down or busy: keep the counts for the next flush
            log.warning("could not write %d thread view counts; will retry", sum(batch.values()))
            self.pending.update(batch)
            return 0
        return sum(batch.values())

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
