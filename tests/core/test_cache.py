"""Small tables are read at most once per `cache_seconds` per process, and forgotten on change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.cache import Cached


async def test_a_cached_value_is_reused_until_forgotten(db: AsyncSession) -> None:
    loads: list[int] = []

    async def load(session: AsyncSession) -> int:
        loads.append(1)
        return len(loads)

    cached = Cached(load)
    assert await cached.get(db, 60) == 1
    assert await cached.get(db, 60) == 1  # reused
    assert await cached.get(db, 0) == 2  # 0 seconds: read now
    cached.forget()
    assert await cached.get(db, 60) == 3
