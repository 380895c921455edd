"""Small, rarely-changing tables (ranks, the category tree) kept per process for a moment.

Every page needs them and an admin edits them once in a while: each process reads them at
most once per `seconds` (settings.cache_seconds) per database, and forgets them at once when
this process changes them. Other processes see a change within `seconds`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

V = TypeVar("V")


class Cached(Generic[V]):
    def __init__(self, load: Callable[[AsyncSession], Awaitable[V]]) -> None:
        self._load = load
        self._values: dict[str, tuple[float, V]] = {}

    async def get(self, session: AsyncSession, seconds: float = 0.0) -> V:
        """The value, reused if it was read less than `seconds` ago (0: read it now)."""
        bind = session.bind
        key = str(bind.engine.url if bind is not None else "")
        now = time.monotonic()
        found = self._values.get(key)
        if seconds > 0 and found is not None and found[0] > now:
            return found[1]
        value = await self._load(session)
        self._values[key] = (now + seconds, value)
        return value

    def forget(self) -> None:
        self._values.clear()
