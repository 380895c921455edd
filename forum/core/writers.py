"""Writers to an SQLite database take turns, in arrival order.

SQLite lets one write transaction in at a time. The others poll for the lock (its busy
handler sleeps 1, 2, 5 … up to 100 ms between tries, in no particular order), so under a
burst of posts a writer could lose the race again and again: at 8 clients posting, the
slowest replies took 2-4 s while the median took 12 ms.

So a writer first queues behind the other writers of its own process (an asyncio lock,
first come first served), then behind those of other processes (an flock on a file beside
the database: the kernel wakes the waiter the moment it is released, where SQLite's busy
handler might sleep another 100 ms). SQLite's own locking still guards the data, so the
queue only decides the order: if the lock file cannot be used, or a writer has waited
`patience` seconds for its turn, it goes ahead and SQLite arbitrates as before (waiting up to
its busy_timeout, then failing with a 503 page, as it did without the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from weakref import WeakKeyDictionary

log = logging.getLogger("candor.db")


class WriterQueue:
    def __init__(self, lock_path: str | None, patience: float = 10.0) -> None:
        self.lock_path = lock_path
        self.patience = patience
        self._locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            WeakKeyDictionary()
        )
        self._fd: int | None = None
        self._unusable = lock_path is None

    def _local(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def _file(self) -> int | None:
        if self._fd is None and not self._unusable:
            assert self.lock_path is not None
            try:
                self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:  # a read-only directory: SQLite alone keeps order
                log.info("no writer queue across processes (%s): %s", self.lock_path, exc)
                self._unusable = True
        return self._fd

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        local = self._local()
        deadline = asyncio.get_running_loop().time() + self.patience  # for both waits together
        try:
            async with asyncio.timeout_at(deadline):
                await local.acquire()
        except TimeoutError:  # a writer of this process is stuck (a slow mail server, say)
            log.warning("a writer waited %.1f s for its turn and went ahead", self.patience)
            acquired = False
        else:
            acquired = True
        if not acquired:
            yield
            return
        try:
            fd = self._file()
            held = fd is not None and await self._lock_file(fd, deadline)
            try:
                yield
            finally:
                if held:
                    assert fd is not None
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            local.release()

    async def _lock_file(self, fd: int, deadline: float) -> bool:
        loop = asyncio.get_running_loop()
        waiting = loop.run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            await asyncio.wait_for(asyncio.shield(waiting), max(0.0, deadline - loop.time()))
            return True
        except (TimeoutError, asyncio.CancelledError) as exc:  # (before OSError: its subclass)
            # The thread still waits for the lock: whenever it gets it, give it back.
            waiting.add_done_callback(lambda done: self._release_if_taken(done, fd))
            if isinstance(exc, asyncio.CancelledError):
                raise
            log.warning("a writer waited %.1f s for its turn and went ahead", self.patience)
            return False
        except OSError as exc:
            log.info("writer queue lock failed: %s", exc)
            return False

    def _release_if_taken(self, done: asyncio.Future[None], fd: int) -> None:
        # Only while the descriptor is still ours: after close() its number may name another file.
        if self._fd == fd and not done.cancelled() and done.exception() is None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
