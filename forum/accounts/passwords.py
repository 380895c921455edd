"""Password hashing with argon2id (argon2-cffi).

A hash or a check costs tens of milliseconds of CPU and 64 MB: done on the event loop it would
stall every other request of the process for that long (a stream of sign-ins, even correct
ones, held a page's answer from 3 ms to 120 ms). So it runs in a worker thread (argon2
releases the GIL), at most `CONCURRENT` at a time per process, which also bounds the memory a
burst of sign-ins can take.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from forum.core.settings import Settings

# The demo board's password (forum.demo), published in the README: an account signing in with
# it is told to change it (`make run` loads the demo, administrator included, and a board
# set up so and then opened to others kept it: the newcomer probe).
DEMO_PASSWORD = "candor-demo"

CONCURRENT = 2
T = TypeVar("T")


class Passwords:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost
        )
        self._dummy: str | None = None
        self._limiters: dict[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = {}

    async def _off_loop(self, work: Callable[..., T], *args: str) -> T:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:  # one per event loop (tests run several, one after another)
            self._limiters = {k: v for k, v in self._limiters.items() if not k.is_closed()}
            limiter = self._limiters[loop] = anyio.CapacityLimiter(CONCURRENT)
        return await anyio.to_thread.run_sync(work, *args, limiter=limiter)

    async def hash(self, password: str) -> str:
        return await self._off_loop(self._hasher.hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._off_loop(self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    async def dummy_verify(self, password: str) -> None:
        """Spend the same time as a real check, so unknown usernames cannot be told apart."""
        if self._dummy is None:
            self._dummy = await self.hash("not-a-real-password")
        await self.verify(self._dummy, password)
