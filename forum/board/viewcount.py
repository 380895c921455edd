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
from collections import Counter

from sqlalchemy import update

from forum.board.models import Thread
from forum.core.db import Database

log = logging.getLogger("candor.views")


class ViewCounter:
    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self.pending: Counter[int] = Counter()
        self._task: asyncio.Task[None] | None = None

    def add(self, thread_id: int) -> None:
        self.pending[thread_id] += 1

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
